using GracefulLifecycle.Lifecycle;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Xunit;

namespace GracefulLifecycle.TestSupport;

/// <summary>
/// The lifecycle wired as <see cref="LifecycleTestHost"/> wires it (fake time, captured logs, the same option
/// defaults, configuration from <c>settings</c>), resolved from a service provider with no host and no server, the
/// host's lifetime a <see cref="FakeHostLifetime"/> and the exit code recorded: for the core's tests of its parts, which
/// resolve the part they test from <see cref="Services"/>, and for the registry adapters' protocol tests, which call
/// the registry directly where the lifecycle would.
/// </summary>
public sealed class LifecycleTestServices : IServiceProvider, IDisposable, IAsyncDisposable
{
    private readonly ServiceProvider _provider;
    private readonly List<LifecyclePhase> _phases;
    private readonly List<int> _exitCodes;

    private LifecycleTestServices(
        ServiceProvider provider, FakeTimeProvider time, CapturingLoggerProvider logs, FakeHostLifetime hostLifetime, List<int> exitCodes)
    {
        _provider = provider;
        _exitCodes = exitCodes;
        Time = time;
        Logs = logs;
        HostLifetime = hostLifetime;

        // Every change from the first, in the order published, from the read-only state the request path reads too.
        _phases = [];
        provider.GetRequiredService<ILifecycleState>().PhaseChanged += (_, e) =>
        {
            lock (_phases)
            {
                _phases.Add(e.Current);
            }
        };
    }

    public FakeTimeProvider Time { get; }

    public CapturingLoggerProvider Logs { get; }

    public IServiceProvider Services => _provider;

    /// <summary>Gets the host's lifetime the lifecycle stops (unless the test registered another).</summary>
    public FakeHostLifetime HostLifetime { get; }

    /// <summary>Gets the exit codes the lifecycle set, in order.</summary>
    public int[] ExitCodes
    {
        get
        {
            lock (_exitCodes)
            {
                return [.. _exitCodes];
            }
        }
    }

    /// <summary>Gets every phase the lifecycle published since it was built, in order.</summary>
    public LifecyclePhase[] Phases
    {
        get
        {
            lock (_phases)
            {
                return [.. _phases];
            }
        }
    }

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
        var hostLifetime = new FakeHostLifetime();
        var exitCodes = new List<int>();
        var collection = new ServiceCollection();
        collection.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build());
        collection.AddSingleton<IHostEnvironment>(new HostingEnvironment { ApplicationName = applicationName, EnvironmentName = "Test" });
        collection.AddSingleton<IHostApplicationLifetime>(hostLifetime);

        // Recorded, never set on the test process.
        collection.AddSingleton(new ProcessExitCode(code =>
        {
            lock (exitCodes)
            {
                exitCodes.Add(code);
            }
        }));
        LifecycleTestHost.AddLifecycle(collection, time, logs, configure, options, services);
        return new LifecycleTestServices(collection.BuildServiceProvider(validateScopes: true), time, logs, hostLifetime, exitCodes);
    }

    /// <summary>Gets the one registry added, as its own type.</summary>
    public TRegistry Registry<TRegistry>()
        where TRegistry : IServiceRegistry =>
        Assert.IsType<TRegistry>(Assert.Single(_provider.GetServices<IServiceRegistry>()));

    public object? GetService(Type serviceType) => _provider.GetService(serviceType);

    public void Dispose() => _provider.Dispose();

    public ValueTask DisposeAsync() => _provider.DisposeAsync();
}
