using System.Runtime.InteropServices;
using GracefulLifecycle.Diagnostics;
using GracefulLifecycle.Work;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Lifecycle;

/// <summary>
/// The lifecycle the application sees, and the one entry point of every trigger. It owns no state of its own but
/// the signal count: the phase is the <see cref="PhaseMachine"/>'s, startup the <see cref="StartupSequence"/>'s,
/// leaving, the delay and rejoin the <see cref="LeaveSequence"/>'s, the drain the <see cref="DrainSequence"/>'s and
/// the stop the <see cref="HostStopper"/>'s. Every trigger joins the same sequence, so repeated and concurrent calls
/// are harmless. docs/architecture.md draws the parts and how a shutdown flows through them.
/// </summary>
internal sealed class LifecycleCoordinator : IGracefulLifecycle, IWorkerCoordination
{
    private readonly PhaseMachine _phases;
    private readonly StartupSequence _startup;
    private readonly LeaveSequence _leave;
    private readonly DrainSequence _drain;
    private readonly HostStopper _host;
    private readonly WorkTracker _work;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private int _signals;

    public LifecycleCoordinator(
        PhaseMachine phases,
        StartupSequence startup,
        LeaveSequence leave,
        DrainSequence drain,
        HostStopper host,
        WorkTracker work,
        TimeProvider time,
        ILogger<LifecycleCoordinator> logger)
    {
        _phases = phases;
        _startup = startup;
        _leave = leave;
        _drain = drain;
        _host = host;
        _work = work;
        _time = time;
        _logger = logger;
        _phases.Sender = this;
    }

    public event EventHandler<LifecyclePhaseChangedEventArgs>? PhaseChanged
    {
        add => _phases.PhaseChanged += value;
        remove => _phases.PhaseChanged -= value;
    }

    public LifecyclePhase Phase => _phases.Phase;

    public Task Ready => _phases.Ready;

    public CancellationToken Leaving => _leave.Leaving;

    public CancellationToken Draining => _drain.Draining;

    public ILogger Logger => _logger;

    public TrackedWork BeginWork(string name) => _work.Begin(name);

    public int ReportWorkNotStarted(IEnumerable<string> names) => _work.ReportNotStarted(names);

    public Task LeaveAsync(CancellationToken cancellationToken = default) =>
        _leave.StartAsync("LeaveAsync").WaitAsync(cancellationToken);

    /// <summary>Used by the preStop endpoint: the same sequence as <see cref="LeaveAsync"/>, logged as such.</summary>
    internal Task LeaveFromPreStopAsync(CancellationToken cancellationToken) =>
        _leave.StartAsync("preStop endpoint").WaitAsync(cancellationToken);

    /// <summary>Runs after the server has started: preload, then ready. Never throws.</summary>
    internal Task RunStartupAsync(CancellationToken hostStopping) => _startup.RunAsync(Leaving, hostStopping);

    /// <summary>SIGTERM, SIGINT, SIGQUIT or SIGHUP: the first starts the shutdown, a second one cuts the delay short.</summary>
    internal void OnSignal(PosixSignal signal)
    {
        var count = Interlocked.Increment(ref _signals);
        Log.SignalReceived(_logger, signal, count);
        if (count == 1)
        {
            // Only SIGTERM comes from the kubelet, after its preStop sleep (if any); Ctrl+C does not.
            StopAfterLeaving(signal.ToString(), afterPreStopSleep: signal == PosixSignal.SIGTERM);
            return;
        }

        switch (Phase)
        {
            case <= LifecyclePhase.Leaving:
                _leave.SkipDelay();
                break;
            case LifecyclePhase.Draining:
                // Someone pressing Ctrl+C again during a long drain wants out now.
                _drain.OnDeadline();
                break;
            default:
                Log.SignalIgnored(_logger, signal, Phase);
                break;
        }
    }

    /// <summary>
    /// Leaves, then stops the host once the delay is served: the host's stop sequence (and with it
    /// <c>ApplicationStopping</c>, on which SignalR and other libraries close their connections) begins when the
    /// drain does, not while load balancers still route here.
    /// </summary>
    internal void StopAfterLeaving(string trigger, bool afterPreStopSleep = false)
    {
        _leave.StopRequested();

        // The phase changes here; its handlers run on the thread pool, so a slow one cannot delay the stop.
        var leave = _leave.StartAsync(trigger, publishHere: false, afterPreStopSleep);
        _ = StopHostAfterAsync(Task.WhenAny(leave, Task.Delay(_leave.Bound, _time)));
    }

    /// <summary>
    /// Returns to service after a leave that no stop followed (see <see cref="LeaveSequence.TryRejoin"/>); if
    /// registering again fails, the instance stops.
    /// </summary>
    /// <returns><see langword="true"/> if the instance is rejoining.</returns>
    internal bool TryRejoin() => _leave.TryRejoin(trigger => StopAfterLeaving(trigger));

    public (CancellationToken Leaving, Task<bool> Ends) CurrentLeave() => _leave.CurrentLeave();

    public void OnWorkerFailed(string service, Exception exception)
    {
        Log.WorkerFailed(_logger, service, exception);
        _host.Fail();
        StopAfterLeaving($"{service} failed");
    }

    /// <summary>The host's stop sequence has begun: finish leaving (unless already done), then start the drain.</summary>
    internal async Task OnHostStoppingAsync(CancellationToken cancellationToken)
    {
        _leave.StopRequested();
        try
        {
            await _leave.StartAsync("host stopping").WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host ran out of time; drain with what is left rather than not at all.
        }

        await BeginDrainAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits for tracked work within the drain (see <see cref="DrainSequence.WaitForWorkAsync"/>).</summary>
    internal Task WaitForWorkAsync(CancellationToken cancellationToken) => _drain.WaitForWorkAsync(cancellationToken);

    public Task<bool> WaitWithinDrainAsync(Task task, CancellationToken cancellationToken) =>
        _drain.WaitWithinDrainAsync(task, cancellationToken);

    /// <summary>The host has stopped every service: the drain is over.</summary>
    internal void OnHostStopped() => _drain.OnHostStopped();

    private async Task StopHostAfterAsync(Task leave)
    {
        await leave.ConfigureAwait(false);

        // The drain starts here, before ApplicationStopping fires (StopApplication fires it at once).
        try
        {
            await BeginDrainAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _host.StopAfterDelay();
        }
    }

    private Task BeginDrainAsync(CancellationToken cancellationToken) => _drain.BeginAsync(_leave.DrainBegan, cancellationToken);
}
