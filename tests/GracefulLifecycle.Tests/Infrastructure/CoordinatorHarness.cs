using GracefulLifecycle.Draining;
using GracefulLifecycle.Lifecycle;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

using GracefulLifecycle.TestSupport;

namespace GracefulLifecycle.Tests.Infrastructure;

/// <summary>A coordinator wired as <c>AddGracefulLifecycle</c> wires it, with fake time, host lifetime and exit code.</summary>
internal sealed class CoordinatorHarness : IDisposable
{
    private readonly ServiceProvider _provider;
    private readonly List<LifecyclePhase> _phases = [];

    public CoordinatorHarness(Action<GracefulLifecycleOptions>? configure = null, Action<IGracefulLifecycleBuilder>? build = null)
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(Logs));
        services.AddSingleton<IHostApplicationLifetime>(HostLifetime);
        var builder = services.AddGracefulLifecycle(o =>
        {
            o.ShutdownDelay = TimeSpan.FromSeconds(5);
            o.DrainTimeout = TimeSpan.FromSeconds(10);
            configure?.Invoke(o);
        });
        build?.Invoke(builder);
        services.AddSingleton<TimeProvider>(Time);
        services.AddSingleton(new ProcessExitCode(code => ExitCodes.Add(code)));
        _provider = services.BuildServiceProvider(validateScopes: true);
        Coordinator = _provider.GetRequiredService<LifecycleCoordinator>();
        Requests = _provider.GetRequiredService<RequestTracker>();
        Coordinator.PhaseChanged += (_, e) =>
        {
            lock (_phases)
            {
                _phases.Add(e.Current);
            }
        };
    }

    public FakeTimeProvider Time { get; } = new();

    public CapturingLoggerProvider Logs { get; } = new();

    public IServiceProvider Services => _provider;

    public FakeHostLifetime HostLifetime { get; } = new();

    public List<int> ExitCodes { get; } = [];

    public LifecycleCoordinator Coordinator { get; }

    public RequestTracker Requests { get; }

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

    public void Dispose() => _provider.Dispose();
}

/// <summary>Records <see cref="StopApplication"/> calls and fires <see cref="ApplicationStopping"/> as the host does.</summary>
internal sealed class FakeHostLifetime : IHostApplicationLifetime
{
    private readonly CancellationTokenSource _stopping = new();
    private int _stopCalls;

    public CancellationToken ApplicationStarted => CancellationToken.None;

    public CancellationToken ApplicationStopping => _stopping.Token;

    public CancellationToken ApplicationStopped => CancellationToken.None;

    public int StopCalls => Volatile.Read(ref _stopCalls);

    public void StopApplication()
    {
        Interlocked.Increment(ref _stopCalls);
        _stopping.Cancel();
    }
}
