using System.Runtime.InteropServices;
using GracefulLifecycle.Adaptive;
using GracefulLifecycle.Diagnostics;
using GracefulLifecycle.Draining;
using GracefulLifecycle.Options;
using GracefulLifecycle.Preload;
using GracefulLifecycle.Registration;
using GracefulLifecycle.Work;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Lifecycle;

/// <summary>
/// Owns the phase and runs the sequence: preload, ready; then on any trigger leave (readiness fails first),
/// serve through the shutdown delay, drain bounded by the drain timeout, stop. Every trigger joins the same
/// sequence, so repeated and concurrent calls are harmless. The drain waits for requests, WebSockets and tracked
/// work together; at its deadline whatever is left is aborted and reported.
/// </summary>
internal sealed class LifecycleCoordinator : IGracefulLifecycle, IDisposable
{
    private readonly Lock _gate = new();
    private readonly Lock _publishGate = new();
    private readonly Queue<PhaseChange> _pendingChanges = new();
    private readonly TimeProvider _time;
    private readonly IHostApplicationLifetime _hostLifetime;
    private readonly PreloadRunner _preloader;
    private readonly RegistrySet _registries;
    private readonly ShutdownPlan _plan;
    private readonly RequestTracker _requests;
    private readonly ConnectionTracker _connections;
    private readonly WorkTracker _work;
    private readonly WebSocketTracker _webSockets;
    private readonly LifecycleMetrics _metrics;
    private readonly GracefulLifecycleOptions _options;
    private readonly ILogger _logger;
    private readonly ProcessExitCode _exitCode;
    private readonly HostOptions _hostOptions;
    private readonly AdaptiveDelay _adaptiveDelay;
    private readonly ShutdownTimeline _timeline;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _skipDelay = new();
    private readonly CancellationTokenSource _draining = new();
    private readonly CancellationTokenSource _drainDeadline = new();

    // A new source for each leave: a rejoin (PreStop:WhenNoStopFollows = Rejoin) hands out a fresh Leaving token.
    private CancellationTokenSource _leaving = new();

    // Completed with true when the instance rejoins after a leave, with false when the drain begins.
    private TaskCompletionSource<bool> _leaveOutcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _leftReady;
    private bool _stopRequested;
    private int _phase;
    private long _phaseStarted;
    private Task? _leave;
    private ITimer? _drainTimer;
    private ITimer? _webSocketTimer;
    private int _deadlinePassed;
    private long _drainStarted;
    private long _aborted;
    private int _signals;

    public LifecycleCoordinator(
        TimeProvider time,
        IHostApplicationLifetime hostLifetime,
        PreloadRunner preloader,
        RegistrySet registries,
        ShutdownPlan plan,
        RequestTracker requests,
        ConnectionTracker connections,
        WorkTracker work,
        WebSocketTracker webSockets,
        LifecycleMetrics metrics,
        IOptions<GracefulLifecycleOptions> options,
        ILogger<LifecycleCoordinator> logger,
        ProcessExitCode exitCode,
        IOptions<HostOptions> hostOptions,
        AdaptiveDelay adaptiveDelay,
        ShutdownTimeline timeline)
    {
        _time = time;
        _hostLifetime = hostLifetime;
        _preloader = preloader;
        _registries = registries;
        _plan = plan;
        _requests = requests;
        _connections = connections;
        _work = work;
        _webSockets = webSockets;
        _metrics = metrics;
        _options = options.Value;
        _logger = logger;
        _exitCode = exitCode;
        _hostOptions = hostOptions.Value;
        _adaptiveDelay = adaptiveDelay;
        _timeline = timeline;
        _phaseStarted = time.GetTimestamp();
        _metrics.ObservePhaseOf(() => Phase);
    }

    public event EventHandler<LifecyclePhaseChangedEventArgs>? PhaseChanged;

    public LifecyclePhase Phase => (LifecyclePhase)Volatile.Read(ref _phase);

    public Task Ready => _ready.Task;

    public CancellationToken Leaving => Volatile.Read(ref _leaving).Token;

    public CancellationToken Draining => _draining.Token;

    internal ILogger Logger => _logger;

    /// <summary>
    /// Gets how long, past the drain deadline, work whose <see cref="TrackedWork.Aborted"/> token has just fired may
    /// take to save what it can: half of <see cref="GracefulLifecycleOptions.ShutdownMargin"/>, the rest being the host's.
    /// </summary>
    private TimeSpan AbortGrace => _options.ShutdownMargin / 2;

    public TrackedWork BeginWork(string name) => _work.Begin(name);

    /// <summary>Names and counts work a worker accepted but never started before the drain deadline.</summary>
    internal int ReportWorkNotStarted(IEnumerable<string> names) => _work.ReportNotStarted(names);

    public Task LeaveAsync(CancellationToken cancellationToken = default) =>
        StartLeaving("LeaveAsync").WaitAsync(cancellationToken);

    /// <summary>Used by the preStop endpoint: the same sequence as <see cref="LeaveAsync"/>, logged as such.</summary>
    internal Task LeaveFromPreStopAsync(CancellationToken cancellationToken) =>
        StartLeaving("preStop endpoint").WaitAsync(cancellationToken);

    /// <summary>Runs after the server has started: preload, then ready. Never throws.</summary>
    internal async Task RunStartupAsync(CancellationToken hostStopping)
    {
        if (!Advance(LifecyclePhase.Preloading))
        {
            return;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Leaving, hostStopping);
        var preloadStarted = _time.GetTimestamp();
        PreloadOutcome outcome;
        try
        {
            outcome = await _preloader.RunAsync(stop.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.PreloadTaskFailed(_logger, "(preload runner)", 0, ex);
            outcome = PreloadOutcome.Failed;
        }

        _metrics.PreloadEnded(_time.GetElapsedTime(preloadStarted), outcome switch
        {
            PreloadOutcome.Succeeded => "succeeded",
            PreloadOutcome.Canceled => "canceled",
            _ => "failed",
        });

        switch (outcome)
        {
            case PreloadOutcome.Succeeded:
                if (await RegisterAsync(stop.Token).ConfigureAwait(false))
                {
                    BecomeReady();
                }

                break;

            case PreloadOutcome.Canceled:
                Log.PreloadCanceled(_logger);
                _ready.TrySetCanceled(stop.Token);
                break;

            default:
                _exitCode.Set(1);
                _ready.TrySetException(new InvalidOperationException("A preload task failed or timed out; the instance never became ready."));
                _hostLifetime.StopApplication();
                break;
        }
    }

    /// <summary>Ready, unless leaving won the race: the phase and the Ready task change together.</summary>
    private void BecomeReady()
    {
        lock (_gate)
        {
            if (AdvanceLocked(LifecyclePhase.Ready))
            {
                _ready.TrySetResult();
            }
        }

        PublishPending();
    }

    /// <summary>Registers with the service registries, if any; false when shutdown started first.</summary>
    private async Task<bool> RegisterAsync(CancellationToken cancellationToken)
    {
        if (_registries.IsEmpty)
        {
            return true;
        }

        if (!Advance(LifecyclePhase.Registering))
        {
            return false;
        }

        var started = _time.GetTimestamp();
        try
        {
            await _registries.RegisterAsync(cancellationToken).ConfigureAwait(false);
            _metrics.RegistrationEnded(_time.GetElapsedTime(started), "succeeded");
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _metrics.RegistrationEnded(_time.GetElapsedTime(started), "canceled");
            _ready.TrySetCanceled(cancellationToken);
            return false;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _metrics.RegistrationEnded(_time.GetElapsedTime(started), "failed");
            // A registry misconfigured (logged by its session): fail fast like a failed preload.
            _exitCode.Set(1);
            _ready.TrySetException(new InvalidOperationException("A service registry cannot work as configured; the instance never became ready.", ex));
            _hostLifetime.StopApplication();
            return false;
        }
    }

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
                _skipDelay.Cancel();
                break;
            case LifecyclePhase.Draining:
                // Someone pressing Ctrl+C again during a long drain wants out now.
                OnDrainDeadline();
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
        lock (_gate)
        {
            // From here on the instance cannot rejoin: this leave ends in a stop.
            _stopRequested = true;
        }

        // The phase changes here; its handlers run on the thread pool, so a slow one cannot delay the stop.
        var leave = StartLeaving(trigger, publishHere: false, afterPreStopSleep);

        // Leaving is bounded by the deregistration timeout and the delay; this bound only guards against a fault in
        // it, so that a signal always ends in a stop within the budget.
        var bound = _plan.DeregistrationTimeout + _plan.ShutdownDelay + _options.ShutdownMargin;
        _ = StopHostAfterAsync(Task.WhenAny(leave, Task.Delay(bound, _time)));
    }

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
            StopHost();
        }
    }

    private void StopHost()
    {
        // The host's timeout is counted from the start of its stop sequence, which now begins after the delay: what
        // is left of the budget is the drain and the margin. Only a value the library raised is shortened: one the
        // application set (or the host's default above the budget) stays.
        if (_plan.RaisedHostShutdownTimeout && _hostOptions.ShutdownTimeout == _plan.Total)
        {
            _hostOptions.ShutdownTimeout = _options.DrainTimeout + _options.ShutdownMargin;
        }

        _hostLifetime.StopApplication();
    }

    /// <summary>
    /// Returns to service after a leave that no stop followed: a new Leaving token, registration again, then ready.
    /// Refused (the caller then stops) unless the instance was ready when it started leaving, the leave is over and no
    /// stop has been asked for: a drain that began, or work told to stop for good, cannot be taken back.
    /// </summary>
    /// <returns><see langword="true"/> if the instance is rejoining.</returns>
    internal bool TryRejoin()
    {
        string? refusal;
        TaskCompletionSource<bool>? outcome = null;
        var started = _time.GetTimestamp();
        lock (_gate)
        {
            refusal = Phase != LifecyclePhase.Leaving ? $"the phase is {Phase}"
                : _stopRequested || _hostLifetime.ApplicationStopping.IsCancellationRequested ? "a stop was requested"
                : !_leftReady ? "it was not ready when it started leaving"
                : _leave is not { IsCompleted: true } ? "leaving has not finished"
                : null;
            if (refusal is null)
            {
                Volatile.Write(ref _leaving, new CancellationTokenSource());
                _leave = null;
                _leftReady = false;
                outcome = _leaveOutcome;
                Volatile.Write(ref _leaveOutcome, new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));
                MoveLocked(_registries.IsEmpty ? LifecyclePhase.Ready : LifecyclePhase.Registering);
            }
        }

        if (refusal is not null)
        {
            Log.RejoinRefused(_logger, refusal);
            return false;
        }

        Log.Rejoining(_logger);
        Publish(here: false);

        // Background services that stopped taking work start again, on the new token.
        outcome!.TrySetResult(true);
        if (!_registries.IsEmpty)
        {
            _ = RegisterAgainAsync(started);
        }
        else
        {
            Log.Rejoined(_logger, 0);
        }

        return true;
    }

    private async Task RegisterAgainAsync(long started)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Leaving, _hostLifetime.ApplicationStopping);
        try
        {
            await _registries.RegisterAgainAsync(stop.Token).ConfigureAwait(false);
            BecomeReady();
            Log.Rejoined(_logger, (long)_time.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // A new leave or a stop came first; it runs its own sequence.
        }
        catch (Exception ex)
        {
            // It registered before with the same settings, so this is unexpected: stop rather than stay unready.
            Log.RejoinFailed(_logger, ex);
            _exitCode.Set(1);
            StopAfterLeaving("rejoin failed");
        }
    }

    /// <summary>
    /// Gets the current Leaving token together with the task that tells how that leave ends: <see langword="true"/>
    /// when the instance rejoins, <see langword="false"/> once the drain has begun. Read together, so a rejoin between
    /// the two reads cannot pair a token with the next leave's outcome.
    /// </summary>
    internal (CancellationToken Leaving, Task<bool> Ends) CurrentLeave()
    {
        lock (_gate)
        {
            return (_leaving.Token, _leaveOutcome.Task);
        }
    }

    /// <summary>A background service failed: like the host does for a <c>BackgroundService</c>, stop, but gracefully.</summary>
    internal void OnWorkerFailed(string service, Exception exception)
    {
        Log.WorkerFailed(_logger, service, exception);
        _exitCode.Set(1);
        StopAfterLeaving($"{service} failed");
    }

    /// <summary>The host's stop sequence has begun: finish leaving (unless already done), then start the drain.</summary>
    internal async Task OnHostStoppingAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _stopRequested = true;
        }

        try
        {
            await StartLeaving("host stopping").WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host ran out of time; drain with what is left rather than not at all.
        }

        await BeginDrainAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Starts the drain, once: the drain deadline and the WebSocket close are armed, the Draining token fires, and the
    /// SignalR hub connections are closed and given a moment to answer. SignalR drops its connections without a close
    /// handshake when <c>ApplicationStopping</c> fires, so this runs before it: before <c>StopApplication()</c> after a
    /// signal, and in the host's <c>StoppingAsync</c> when the host is stopped directly.
    /// </summary>
    private async Task BeginDrainAsync(CancellationToken cancellationToken)
    {
        // A slow PhaseChanged handler must not hold the drain, nor the host's stop after it.
        if (!Advance(LifecyclePhase.Draining, publishHere: false))
        {
            return;
        }

        _drainStarted = _time.GetTimestamp();
        Volatile.Read(ref _leaveOutcome).TrySetResult(false);
        _timeline.DrainStarted();
        Log.DrainStarted(_logger, _requests.InFlight, _work.Count, _webSockets.Count, _options.DrainTimeout);
        _drainTimer = _time.CreateTimer(
            static state => ((LifecycleCoordinator)state!).OnDrainDeadline(), this, _options.DrainTimeout, Timeout.InfiniteTimeSpan);
        _webSocketTimer = _time.CreateTimer(
            static state => ((LifecycleCoordinator)state!).CloseWebSockets(), this, _options.WebSocketCloseDelay, Timeout.InfiniteTimeSpan);

        // Before the application hears of the drain: the close frames it sends on Draining get the handshake bound too.
        _webSockets.BeginDrain();

        // Stream handlers and WebSocket loops end at their next message boundary; a slow callback must not hold the stop.
        Fire(_draining, Log.DrainingCallbackFailed);

        var hubs = _webSockets.CloseHubConnectionsAsync();
        if (!hubs.IsCompleted)
        {
            try
            {
                await hubs.WaitAsync(WebSocketTracker.CloseHandshakeTimeout, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is TimeoutException || (ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                // SignalR's own stop ends the rest.
            }
        }
    }

    /// <summary>
    /// Waits until no tracked work is left, or until the drain deadline (when what is left has been reported and
    /// aborted), or until the host gives up.
    /// </summary>
    internal async Task WaitForWorkAsync(CancellationToken cancellationToken)
    {
        var idle = _work.WhenIdleAsync();
        if (idle.IsCompleted)
        {
            return;
        }

        // Work abandoned at the deadline was reported there; the host goes on after the grace either way.
        if (await WaitWithinDrainAsync(idle, cancellationToken).ConfigureAwait(false) &&
            !_drainDeadline.IsCancellationRequested && _drainStarted != 0)
        {
            Log.WorkDrained(_logger, (long)_time.GetElapsedTime(_drainStarted).TotalMilliseconds);
        }
    }

    /// <summary>
    /// Waits for <paramref name="task"/> until the drain deadline, then (its work just told through
    /// <see cref="TrackedWork.Aborted"/>) up to <see cref="AbortGrace"/> more, so it can save before the host disposes
    /// services; the host's own token ends the wait at any time.
    /// </summary>
    /// <returns><see langword="true"/> if the task ended within that time.</returns>
    internal async Task<bool> WaitWithinDrainAsync(Task task, CancellationToken cancellationToken)
    {
        try
        {
            await Task.WhenAny(task, Task.Delay(Timeout.Infinite, _drainDeadline.Token)).WaitAsync(cancellationToken).ConfigureAwait(false);
            if (!task.IsCompleted)
            {
                await task.WaitAsync(AbortGrace, _time, cancellationToken).ConfigureAwait(false);
            }

            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>The host has stopped every service: the drain is over.</summary>
    internal void OnHostStopped()
    {
        DisposeTimers();
        var drained = _drainStarted == 0 ? TimeSpan.Zero : _time.GetElapsedTime(_drainStarted);
        if (Advance(LifecyclePhase.Stopped))
        {
            Log.DrainCompleted(_logger, (long)drained.TotalMilliseconds, Interlocked.Read(ref _aborted));
            if (_drainStarted != 0)
            {
                _metrics.DrainEnded(drained, timedOut: Volatile.Read(ref _deadlinePassed) != 0);
            }
            _timeline.Stopped();
        }
    }

    // The token sources have no timers and are not disposed, so Leaving stays usable after the host is gone.
    public void Dispose() => DisposeTimers();

    private void DisposeTimers()
    {
        _drainTimer?.Dispose();
        _webSocketTimer?.Dispose();
    }

    private Task StartLeaving(string trigger, bool publishHere = true, bool afterPreStopSleep = false)
    {
        TaskCompletionSource done;
        CancellationTokenSource leaving;
        bool wasReady;
        lock (_gate)
        {
            if (_leave is not null)
            {
                return _leave;
            }

            // Readiness reads the phase: changing it is the first thing leaving does.
            wasReady = Phase == LifecyclePhase.Ready;
            _leftReady = wasReady;
            AdvanceLocked(LifecyclePhase.Leaving);
            leaving = _leaving;
            _ready.TrySetCanceled(leaving.Token);
            done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _leave = done.Task;
        }

        // Nobody has been sent here before ready or before a registry heard of it, so nobody needs time to stop coming.
        // After the kubelet's preStop sleep, load balancers have had that time already: only the rest is served.
        var delay = !wasReady && !_registries.AnyAttempted ? TimeSpan.Zero
            : afterPreStopSleep ? _plan.DelayAfterPreStopSleep
            : _plan.ShutdownDelay;
        Log.LeavingStarted(_logger, trigger, delay);

        // Before anything else can run: the traffic up to this moment sets each peer's quiet period.
        _timeline.Leaving(trigger);

        // The sequence is under way before any callback of the token runs: a slow callback cannot stretch it.
        _ = ServeDelayAsync(delay, done);
        Fire(leaving, Log.LeavingCallbackFailed);
        Publish(publishHere);
        return done.Task;
    }

    private async Task ServeDelayAsync(TimeSpan delay, TaskCompletionSource done)
    {
        try
        {
            // Leave the registries first: their consumers' caches only start to forget the instance from then on.
            await _registries.LeaveAsync().ConfigureAwait(false);

            var started = _time.GetTimestamp();
            var end = (Reason: DelayEnd.None, At: started);
            if (delay > TimeSpan.Zero && _adaptiveDelay.Enabled)
            {
                // The delay becomes the maximum: it ends earlier once the traffic shows the routes have moved.
                end = await _adaptiveDelay.ServeAsync(delay, _skipDelay.Token).ConfigureAwait(false);
            }
            else if (delay > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(delay, _time, _skipDelay.Token).ConfigureAwait(false);
                    Log.ShutdownDelayElapsed(_logger, delay);
                    end = (DelayEnd.Elapsed, started + (long)(delay.TotalSeconds * _time.TimestampFrequency));
                }
                catch (OperationCanceledException)
                {
                    end = (DelayEnd.Signal, _time.GetTimestamp());
                    Log.ShutdownDelaySkipped(_logger, (long)_time.GetElapsedTime(started, end.At).TotalMilliseconds);
                }
            }

            if (delay > TimeSpan.Zero)
            {
                _metrics.ShutdownDelayServed(_time.GetElapsedTime(started, end.At), end.Reason);
            }

            _timeline.DelayEnded(end.Reason, end.At);
        }
        finally
        {
            // Whatever happened, the sequence goes on: the drain and the exit must not wait for a leave that failed.
            done.TrySetResult();
        }
    }

    /// <summary>Cancels a token without waiting for its callbacks; a callback that throws is logged, not thrown.</summary>
    private void Fire(CancellationTokenSource source, Action<ILogger, Exception> callbackFailed) =>
        _ = source.CancelAsync().ContinueWith(
            (task, state) => callbackFailed((ILogger)state!, task.Exception!),
            _logger,
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

    /// <summary>The end of the drain (or a second signal during it): abort what is left, once.</summary>
    private void OnDrainDeadline()
    {
        // A timer's callback can run while the timer is being disposed: after the host has stopped there is nothing
        // left to abort, and its services may already be disposed.
        if (Phase == LifecyclePhase.Stopped || Interlocked.Exchange(ref _deadlinePassed, 1) != 0)
        {
            return;
        }

        AbortRequestsInFlight();
        AbortConnections();

        // Work is told without waiting for its callbacks: a slow one must not hold the rest of the deadline.
        _work.AbandonAll();
        _drainDeadline.Cancel();
    }

    private void CloseWebSockets()
    {
        if (Phase == LifecyclePhase.Stopped)
        {
            return;
        }

        var closed = _webSockets.CloseAll();
        if (closed > 0)
        {
            Log.WebSocketsClosing(_logger, closed, _options.WebSocketCloseDelay);
            _metrics.WebSocketsClosed(closed);
        }
    }

    private void AbortRequestsInFlight()
    {
        var count = _requests.AbortAll();
        if (count > 0)
        {
            Interlocked.Add(ref _aborted, count);
            _metrics.RequestsAborted(count);
            Log.DrainTimedOut(_logger, _options.DrainTimeout, count);
        }
    }

    /// <summary>
    /// Aborts every connection still open, those whose request never reached the application included (unfinished
    /// headers, an unread body, idle): the server's own stop would wait for them until the host's timeout.
    /// </summary>
    private void AbortConnections()
    {
        var count = _connections.AbortAll();
        if (count > 0)
        {
            Log.ConnectionsAbortedAtDeadline(_logger, _options.DrainTimeout, count);
        }
    }

    private bool Advance(LifecyclePhase to, bool publishHere = true)
    {
        bool advanced;
        lock (_gate)
        {
            advanced = AdvanceLocked(to);
        }

        Publish(publishHere);
        return advanced;
    }

    /// <summary>
    /// Publishes the pending changes on this thread, or on the thread pool (in order all the same: every publisher
    /// drains the one queue under the publish lock) where a slow handler must not hold the caller.
    /// </summary>
    private void Publish(bool here)
    {
        if (here)
        {
            PublishPending();
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(static s => s.PublishPending(), this, preferLocal: false);
        }
    }

    private bool AdvanceLocked(LifecyclePhase to)
    {
        if (to <= Phase)
        {
            return false;
        }

        MoveLocked(to);
        return true;
    }

    /// <summary>Sets the phase, forward or (only to rejoin) back, and queues the change for publication.</summary>
    private void MoveLocked(LifecyclePhase to)
    {
        var from = Phase;
        var now = _time.GetTimestamp();
        var duration = _time.GetElapsedTime(_phaseStarted, now);
        _phaseStarted = now;
        Volatile.Write(ref _phase, (int)to);
        _pendingChanges.Enqueue(new PhaseChange(from, to, duration));
    }

    /// <summary>Logs and raises the phase changes in the order they happened, one publisher at a time.</summary>
    private void PublishPending()
    {
        lock (_publishGate)
        {
            while (true)
            {
                PhaseChange change;
                lock (_gate)
                {
                    if (!_pendingChanges.TryDequeue(out change))
                    {
                        return;
                    }
                }

                Log.PhaseChanged(_logger, change.To, change.From, (long)change.Duration.TotalMilliseconds);
                if (PhaseChanged is { } handlers)
                {
                    var args = new LifecyclePhaseChangedEventArgs(change.From, change.To, change.Duration);

                    // One by one: a handler that throws must not keep the handlers after it from running.
                    foreach (var handler in handlers.GetInvocationList())
                    {
                        try
                        {
                            ((EventHandler<LifecyclePhaseChangedEventArgs>)handler)(this, args);
                        }
                        catch (Exception ex)
                        {
                            Log.PhaseChangedHandlerFailed(_logger, ex);
                        }
                    }
                }
            }
        }
    }

    private readonly record struct PhaseChange(LifecyclePhase From, LifecyclePhase To, TimeSpan Duration);
}
