using GracefulLifecycle.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Eureka.Tests.Infrastructure;

/// <summary>The Eureka registry resolved from a service collection as <c>AddEureka</c> builds it, on fake time, without a host.</summary>
internal sealed class RegistryHarness : IDisposable
{
    private readonly ServiceProvider _services;

    public RegistryHarness(
        Action<EurekaOptions> configure, string applicationName = "Harness", FakeTimeProvider? time = null, Action<IServiceCollection>? services = null)
    {
        Time = time ?? new FakeTimeProvider();
        var collection = new ServiceCollection();
        collection.AddLogging(b => b.AddProvider(Logs).SetMinimumLevel(LogLevel.Debug));
        collection.AddSingleton<TimeProvider>(Time);
        collection.AddSingleton<IHostEnvironment>(new HostingEnvironment { ApplicationName = applicationName });
        collection.AddGracefulLifecycle().AddEureka(o =>
        {
            EurekaScenario.FastEureka(o);
            o.Port = 8080;
            configure(o);
        });
        services?.Invoke(collection);

        _services = collection.BuildServiceProvider();
        Registry = (EurekaRegistry)_services.GetRequiredService<IServiceRegistry>();
    }

    public FakeTimeProvider Time { get; }

    public CapturingLoggerProvider Logs { get; } = new();

    public EurekaRegistry Registry { get; }

    public IServiceProvider Services => _services;

    public void Dispose() => _services.Dispose();
}
