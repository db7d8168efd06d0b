using GracefulLifecycle.TestSupport;
using GracefulLifecycle.TestSupport.Eureka;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.Eureka.Tests.Infrastructure;

/// <summary>Fake Eureka servers on real sockets and registry harnesses for one test, all disposed with it.</summary>
internal sealed class EurekaTestBed : IAsyncDisposable
{
    private readonly List<FakeEurekaServer> _servers = [];
    private readonly List<RegistryHarness> _harnesses = [];

    /// <summary>Starts a fake server on its own fake clock, or on <paramref name="time"/>.</summary>
    public async Task<FakeEurekaServer> ServerAsync(FakeTimeProvider? time = null)
    {
        var server = await FakeEurekaServer.StartAsync(time ?? new FakeTimeProvider());
        _servers.Add(server);
        return server;
    }

    /// <summary>Resolves a registry as <see cref="RegistryHarness"/> does.</summary>
    public RegistryHarness Harness(
        Action<EurekaOptions> configure, string applicationName = "Harness", FakeTimeProvider? time = null, Action<IServiceCollection>? services = null)
    {
        var harness = new RegistryHarness(configure, applicationName, time, services);
        _harnesses.Add(harness);
        return harness;
    }

    /// <summary>Disposes the harnesses first, so no registry calls a server that is gone.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var harness in _harnesses)
        {
            harness.Dispose();
        }

        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }
    }
}
