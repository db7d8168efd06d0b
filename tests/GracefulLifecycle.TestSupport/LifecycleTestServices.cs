using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Xunit;

namespace GracefulLifecycle.TestSupport;

/// <summary>
/// The lifecycle wired as <see cref="LifecycleTestHost"/> wires it (fake time, captured logs, the same option
/// defaults, configuration from <c>settings</c>), resolved from a service provider with no host and no server: for the
/// registry adapters' protocol tests, which call the registry directly where the lifecycle would.
/// </summary>
public sealed class LifecycleTestServices : IServiceProvider, IDisposable, IAsyncDisposable
{
    private readonly ServiceProvider _provider;

    private LifecycleTestServices(ServiceProvider provider, FakeTimeProvider time, CapturingLoggerProvider logs)
    {
        _provider = provider;
        Time = time;
        Logs = logs;
    }

    public FakeTimeProvider Time { get; }

    public CapturingLoggerProvider Logs { get; }

    public IServiceProvider Services => _provider;

    /// <summary>Builds the provider; the parameters mean what they mean for <see cref="LifecycleTestHost.StartAsync"/>.</summary>
    /// <param name="applicationName">The host environment's application name, which adapters use for a default service name.</param>
    /// <param name="logs">Where the logs go, when several providers of one test share it.</param>
    public static LifecycleTestServices Build(
        Action<IGracefulLifecycleBuilder>? configure = null,
        Action<GracefulLifecycleOptions>? options = null,
        IDictionary<string, string?>? settings = null,
        FakeTimeProvider? time = null,
        Action<IServiceCollection>? services = null,
        string applicationName = "Harness",
        CapturingLoggerProvider? logs = null)
    {
        time ??= new FakeTimeProvider();
        logs ??= new CapturingLoggerProvider();
        var collection = new ServiceCollection();
        collection.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build());
        collection.AddSingleton<IHostEnvironment>(new HostingEnvironment { ApplicationName = applicationName, EnvironmentName = "Test" });
        LifecycleTestHost.AddLifecycle(collection, time, logs, configure, options, services);
        return new LifecycleTestServices(collection.BuildServiceProvider(), time, logs);
    }

    /// <summary>Gets the one registry added, as its own type.</summary>
    public TRegistry Registry<TRegistry>()
        where TRegistry : IServiceRegistry =>
        Assert.IsType<TRegistry>(Assert.Single(_provider.GetServices<IServiceRegistry>()));

    public object? GetService(Type serviceType) => _provider.GetService(serviceType);

    public void Dispose() => _provider.Dispose();

    public ValueTask DisposeAsync() => _provider.DisposeAsync();
}
