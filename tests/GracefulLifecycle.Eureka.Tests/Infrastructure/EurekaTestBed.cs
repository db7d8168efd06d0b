using GracefulLifecycle.TestSupport;
using GracefulLifecycle.TestSupport.Eureka;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.Eureka.Tests.Infrastructure;

/// <summary>Fake Eureka servers on real sockets and registry harnesses for one test, all disposed with it.</summary>
internal sealed class EurekaTestBed : IAsyncDisposable
{
    private readonly List<FakeEurekaServer> _servers = [];
    private readonly List<LifecycleTestServices> _harnesses = [];

    /// <summary>Starts a fake server on its own fake clock, or on <paramref name="time"/>.</summary>
    public async Task<FakeEurekaServer> ServerAsync(FakeTimeProvider? time = null)
    {
        var server = await FakeEurekaServer.StartAsync(time ?? new FakeTimeProvider());
        _servers.Add(server);
        return server;
    }

    /// <summary>
    /// The Eureka registry resolved from a service collection as <c>AddEureka</c> builds it, on fake time, without a
    /// host (the wiring of the lifecycle test host): the fast timings of <see cref="EurekaScenario.FastEureka"/>, port
    /// 8080, then <paramref name="configure"/>. Disposed with the test.
    /// </summary>
    public LifecycleTestServices Harness(
        Action<EurekaOptions> configure, string applicationName = "Harness", FakeTimeProvider? time = null, Action<IServiceCollection>? services = null)
    {
        var harness = Resolve(configure, applicationName, time, services);
        _harnesses.Add(harness);
        return harness;
    }

    /// <summary>As <see cref="Harness"/>, for a test that disposes what it gets itself.</summary>
    public static LifecycleTestServices Resolve(
        Action<EurekaOptions> configure, string applicationName = "Harness", FakeTimeProvider? time = null, Action<IServiceCollection>? services = null) =>
        LifecycleTestServices.Build(
            configure: b => b.AddEureka(o =>
            {
                EurekaScenario.FastEureka(o);
                o.Port = 8080;
                configure(o);
            }),
            time: time,
            services: services,
            applicationName: applicationName);

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
