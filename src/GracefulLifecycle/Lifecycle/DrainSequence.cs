using GracefulLifecycle.Adaptive;
using GracefulLifecycle.Diagnostics;
using GracefulLifecycle.Draining;
using GracefulLifecycle.Shutdown;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Lifecycle;

/// <summary>
/// The drain: once begun, the Draining token fires, WebSockets are closed after their delay, and at the drain
/// deadline whatever is left is aborted and reported; workers wait on it within that deadline and a grace.
/// </summary>
internal sealed class DrainSequence : IDisposable
{
    private readonly PhaseMachine _phases;
    private readonly TimeProvider _time;
    private readonly DrainTargets _targets;
    private readonly LifecycleMetrics _metrics;
    private readonly ShutdownTimeline _timeline;
    private readonly ShutdownAdvisors _advisors;
    private readonly ShutdownPlan _plan;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _draining = new();
    private readonly CancellationTokenSource _deadline = new();
    private ITimer? _drainTimer;
    private ITimer? _webSocketTimer;
    private int _deadlinePassed;
    private long _started;
    private long _aborted;

    public DrainSequence(
        PhaseMachine phases,
        TimeProvider time,
        DrainTargets targets,
        LifecycleMetrics metrics,
        ShutdownTimeline timeline,
        ShutdownAdvisors advisors,
        ShutdownPlan plan,
        ILogger<LifecycleCoordinator> logger)
    {
        _phases = phases;
        _time = time;
        _targets = targets;
        _metrics = metrics;
        _timeline = timeline;
        _advisors = advisors;
        _plan = plan;
        _logger = logger;
    }

    public CancellationToken Draining => _draining.Token;

    /// <summary>
    /// Starts the drain, once: the drain deadline and the WebSocket close are armed, the Draining token fires, and the
    /// SignalR hub connections are closed and given a moment to answer. SignalR drops its connections without a close
    /// handshake when <c>ApplicationStopping</c> fires, so this runs before it: before <c>StopApplication()</c> after a
    /// signal, and in the host's <c>StoppingAsync</c> when the host is stopped directly.
    /// </summary>
    /// <param name="begun">Called as soon as the phase is Draining, before anything else.</param>
    /// <param name="cancellationToken">The host's stop token.</param>
    public async Task BeginAsync(Action begun, CancellationToken cancellationToken)
    {
        // A slow PhaseChanged handler must not hold the drain, nor the host's stop after it.
        if (!_phases.Advance(LifecyclePhase.Draining, publishHere: false))
        {
            return;
        }

        _started = _time.GetTimestamp();
        begun();
        _timeline.DrainStarted();
        _targets.LogDrainStarted();
        _drainTimer = _time.CreateTimer(
            static state => ((DrainSequence)state!).OnDeadline(), this, _advisors.DrainTimeout, Timeout.InfiniteTimeSpan);
        _webSocketTimer = _time.CreateTimer(
            static state => ((DrainSequence)state!).CloseWebSockets(), this, _plan.WebSocketCloseDelay, Timeout.InfiniteTimeSpan);

        // Before the application hears of the drain: the close frames it sends on Draining get the handshake bound too.
        _targets.BeginWebSocketDrain();

        // Stream handlers and WebSocket loops end at their next message boundary; a slow callback must not hold the stop.
        TokenFiring.Fire(_draining, _logger, Log.DrainingCallbackFailed);

        var hubs = _targets.CloseHubConnectionsAsync();
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
    public async Task WaitForWorkAsync(CancellationToken cancellationToken)
    {
        var idle = _targets.WhenWorkIdleAsync();
        if (idle.IsCompleted)
        {
            return;
        }

        // Work abandoned at the deadline was reported there; the host goes on after the grace either way.
        if (await WaitWithinDrainAsync(idle, cancellationToken).ConfigureAwait(false) &&
            !_deadline.IsCancellationRequested && _started != 0)
        {
            Log.WorkDrained(_logger, (long)_time.GetElapsedTime(_started).TotalMilliseconds);
        }
    }

    /// <summary>
    /// Waits for <paramref name="task"/> until the drain deadline, then (its work just told through
    /// <see cref="TrackedWork.Aborted"/>) up to <see cref="ShutdownPlan.AbortGrace"/> more, so it can save before the host disposes
    /// services; the host's own token ends the wait at any time.
    /// </summary>
    /// <returns><see langword="true"/> if the task ended within that time.</returns>
    public async Task<bool> WaitWithinDrainAsync(Task task, CancellationToken cancellationToken)
    {
        try
        {
            await Task.WhenAny(task, Task.Delay(Timeout.Infinite, _deadline.Token)).WaitAsync(cancellationToken).ConfigureAwait(false);
            if (!task.IsCompleted)
            {
                await task.WaitAsync(_plan.AbortGrace, _time, cancellationToken).ConfigureAwait(false);
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

    /// <summary>The end of the drain (or a second signal during it): abort what is left, once.</summary>
    public void OnDeadline()
    {
        // A timer's callback can run while the timer is being disposed: after the host has stopped there is nothing
        // left to abort, and its services may already be disposed.
        if (_phases.Phase == LifecyclePhase.Stopped || Interlocked.Exchange(ref _deadlinePassed, 1) != 0)
        {
            return;
        }

        Interlocked.Add(ref _aborted, _targets.AbortAll());
        _deadline.Cancel();
    }

    /// <summary>The host has stopped every service: the drain is over.</summary>
    public void OnHostStopped()
    {
        Dispose();
        var drained = _started == 0 ? TimeSpan.Zero : _time.GetElapsedTime(_started);
        if (_phases.Advance(LifecyclePhase.Stopped))
        {
            Log.DrainCompleted(_logger, (long)drained.TotalMilliseconds, Interlocked.Read(ref _aborted));
            if (_started != 0)
            {
                _metrics.DrainEnded(drained, timedOut: Volatile.Read(ref _deadlinePassed) != 0);
            }

            _timeline.Stopped(drainTimedOut: Volatile.Read(ref _deadlinePassed) != 0);
        }
    }

    // The token sources have no timers and are not disposed, so Draining stays usable after the host is gone.
    public void Dispose()
    {
        _drainTimer?.Dispose();
        _webSocketTimer?.Dispose();
    }

    private void CloseWebSockets()
    {
        if (_phases.Phase != LifecyclePhase.Stopped)
        {
            _targets.CloseWebSockets();
        }
    }
}
