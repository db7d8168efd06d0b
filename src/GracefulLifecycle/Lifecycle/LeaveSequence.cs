using System.Diagnostics.CodeAnalysis;
using GracefulLifecycle.Adaptive;
using GracefulLifecycle.Diagnostics;
using GracefulLifecycle.Registration;
using GracefulLifecycle.Shutdown;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Lifecycle;

/// <summary>
/// Leaving: readiness fails first (the phase), the Leaving token fires, the registries are left, then the shutdown
/// delay is served. Every trigger joins the one leave under way. A leave that no stop followed may end in a rejoin:
/// a new Leaving token, registration again, then ready.
/// </summary>
[SuppressMessage("Reliability", "CA1001:Types that own disposable fields should be disposable", Justification = "The token sources have no timers; they are not disposed so that Leaving stays usable after the host is gone.")]
internal sealed class LeaveSequence
{
    private readonly PhaseMachine _phases;
    private readonly TimeProvider _time;
    private readonly RegistrySet _registries;
    private readonly ShutdownPlan _plan;
    private readonly ShutdownDelayServer _delay;
    private readonly ShutdownAdvisors _advisors;
    private readonly ShutdownTimeline _timeline;
    private readonly HostStopper _host;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _skipDelay = new();

    // A new source for each leave: a rejoin (PreStop:WhenNoStopFollows = Rejoin) hands out a fresh Leaving token.
    private CancellationTokenSource _leaving = new();

    // Completed with true when the instance rejoins after a leave, with false when the drain begins.
    private TaskCompletionSource<bool> _leaveOutcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _leftReady;
    private bool _stopRequested;
    private Task? _leave;

    public LeaveSequence(
        PhaseMachine phases,
        TimeProvider time,
        RegistrySet registries,
        ShutdownPlan plan,
        ShutdownDelayServer delay,
        ShutdownAdvisors advisors,
        ShutdownTimeline timeline,
        HostStopper host,
        ILogger<LifecycleCoordinator> logger)
    {
        _phases = phases;
        _time = time;
        _registries = registries;
        _plan = plan;
        _delay = delay;
        _advisors = advisors;
        _timeline = timeline;
        _host = host;
        _logger = logger;
    }

    public CancellationToken Leaving => Volatile.Read(ref _leaving).Token;

    /// <summary>
    /// Gets the longest a leave can take (<see cref="ShutdownPlan.LeaveBound"/>), and longer by what the shutdown advice
    /// may add (<see cref="ShutdownAdvisors.ExtraBound"/>).
    /// </summary>
    public TimeSpan Bound => _plan.LeaveBound + _advisors.ExtraBound;

    /// <summary>From here on the instance cannot rejoin: this leave ends in a stop.</summary>
    public void StopRequested()
    {
        lock (_phases.Gate)
        {
            _stopRequested = true;
        }
    }

    /// <summary>Cuts the delay short (a second signal).</summary>
    public void SkipDelay() => _skipDelay.Cancel();

    /// <summary>The drain has begun: a worker waiting to know how the leave ends learns it will not rejoin.</summary>
    public void DrainBegan() => Volatile.Read(ref _leaveOutcome).TrySetResult(false);

    /// <summary>
    /// Gets the current Leaving token together with the task that tells how that leave ends: <see langword="true"/>
    /// when the instance rejoins, <see langword="false"/> once the drain has begun. Read together, so a rejoin between
    /// the two reads cannot pair a token with the next leave's outcome.
    /// </summary>
    public (CancellationToken Leaving, Task<bool> Ends) CurrentLeave()
    {
        lock (_phases.Gate)
        {
            return (_leaving.Token, _leaveOutcome.Task);
        }
    }

    /// <summary>Starts leaving, or joins the leave under way.</summary>
    /// <returns>A task that completes when the delay is served.</returns>
    public Task StartAsync(string trigger, bool publishHere = true, bool afterPreStopSleep = false)
    {
        TaskCompletionSource done;
        CancellationTokenSource leaving;
        bool wasReady;
        lock (_phases.Gate)
        {
            if (_leave is not null)
            {
                return _leave;
            }

            // Readiness reads the phase: changing it is the first thing leaving does.
            wasReady = _phases.Phase == LifecyclePhase.Ready;
            _leftReady = wasReady;
            _phases.AdvanceLocked(LifecyclePhase.Leaving);
            leaving = _leaving;
            _phases.ReadyCanceled(leaving.Token);
            done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _leave = done.Task;
        }

        // Nobody has been sent here before ready or before a registry heard of it, so nobody needs time to stop coming.
        // After the kubelet's preStop sleep, load balancers have had that time already: only the rest is served.
        var routed = wasReady || _registries.AnyAttempted;
        var delay = !routed ? TimeSpan.Zero
            : afterPreStopSleep ? _plan.DelayAfterPreStopSleep
            : _plan.ShutdownDelay;
        Log.LeavingStarted(_logger, trigger, delay);

        // Before anything else can run: the traffic up to this moment sets each peer's quiet period.
        _timeline.Leaving(trigger);

        // The platform is asked (once, bounded) while the registries are left.
        var advice = _advisors.ConsultAsync(trigger, afterPreStopSleep);

        // The sequence is under way before any callback of the token runs: a slow callback cannot stretch it.
        _ = ServeDelayAsync(delay, advice, routed, done);
        TokenFiring.Fire(leaving, _logger, Log.LeavingCallbackFailed);
        _phases.Publish(publishHere);
        return done.Task;
    }

    /// <summary>
    /// Returns to service after a leave that no stop followed: a new Leaving token, registration again, then ready.
    /// Refused (the caller then stops) unless the instance was ready when it started leaving, the leave is over and no
    /// stop has been asked for: a drain that began, or work told to stop for good, cannot be taken back.
    /// </summary>
    /// <param name="stop">Stops the instance if registering again fails.</param>
    /// <returns><see langword="true"/> if the instance is rejoining.</returns>
    public bool TryRejoin(Action<string> stop)
    {
        string? refusal;
        TaskCompletionSource<bool>? outcome = null;
        var started = _time.GetTimestamp();
        lock (_phases.Gate)
        {
            var phase = _phases.Phase;
            refusal = phase != LifecyclePhase.Leaving ? $"the phase is {phase}"
                : _stopRequested || _host.Stopping.IsCancellationRequested ? "a stop was requested"
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
                _phases.MoveLocked(_registries.IsEmpty ? LifecyclePhase.Ready : LifecyclePhase.Registering);
            }
        }

        if (refusal is not null)
        {
            Log.RejoinRefused(_logger, refusal);
            return false;
        }

        Log.Rejoining(_logger);
        _timeline.Rejoined();
        _phases.Publish(here: false);

        // Background services that stopped taking work start again, on the new token.
        outcome!.TrySetResult(true);
        if (!_registries.IsEmpty)
        {
            _ = RegisterAgainAsync(started, stop);
        }
        else
        {
            Log.Rejoined(_logger, 0);
        }

        return true;
    }

    private async Task RegisterAgainAsync(long started, Action<string> stopAfterLeaving)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Leaving, _host.Stopping);
        try
        {
            await _registries.RegisterAgainAsync(stop.Token).ConfigureAwait(false);
            _phases.BecomeReady();
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
            _host.Fail();
            stopAfterLeaving("rejoin failed");
        }
    }

    private async Task ServeDelayAsync(TimeSpan delay, Task<ShutdownAdvisors.Advice?> advice, bool routed, TaskCompletionSource done)
    {
        try
        {
            // Leave the registries first: their consumers' caches only start to forget the instance from then on.
            await _registries.LeaveAsync().ConfigureAwait(false);
            delay = await _advisors.ApplyAsync(advice, delay, routed, _skipDelay.Token).ConfigureAwait(false);
            await _delay.ServeAsync(delay, _skipDelay.Token).ConfigureAwait(false);
        }
        finally
        {
            // Whatever happened, the sequence goes on: the drain and the exit must not wait for a leave that failed.
            done.TrySetResult();
        }
    }
}
