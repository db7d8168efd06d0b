using GracefulLifecycle.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Eureka.Tests.Infrastructure;

/// <summary>The Eureka registry resolved from a service collection as <c>AddEureka</c> builds it, on fake time, without a host.</summary>
internal sealed class RegistryHarness : IDisposable
{
    private readonly ServiceProvider _services;

    public RegistryHarness(Action<EurekaOptions> configure, string applicationName = "Harness", FakeTimeProvider? time = null)
    {
        Time = time ?? new FakeTimeProvider();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(Logs).SetMinimumLevel(LogLevel.Debug));
        services.AddSingleton<TimeProvider>(Time);
        services.AddSingleton<IHostEnvironment>(new HostingEnvironment { ApplicationName = applicationName });
        services.AddGracefulLifecycle().AddEureka(o =>
        {
            EurekaScenario.FastEureka(o);
            o.Port = 8080;
            configure(o);
        });

        _services = services.BuildServiceProvider();
        Registry = (EurekaRegistry)_services.GetRequiredService<IServiceRegistry>();
    }

    public FakeTimeProvider Time { get; }

    public CapturingLoggerProvider Logs { get; } = new();

    public EurekaRegistry Registry { get; }

    public IServiceProvider Services => _services;

    public void Dispose() => _services.Dispose();
}
