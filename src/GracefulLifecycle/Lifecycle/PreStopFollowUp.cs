using GracefulLifecycle.Diagnostics;
using GracefulLifecycle.Shutdown;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Lifecycle;

/// <summary>
/// The safety net of a preStop call that no stop follows. The kubelet always sends SIGTERM after the hook; a deploy
/// script or a stray call may not, and the instance would then stay out of rotation for good while liveness keeps
/// passing, so nothing would ever restart it. Once a preStop call is accepted, if the host has not begun stopping by
/// the time the orchestrator would have had to send SIGTERM (the grace period less the drain and the margin, counted
/// from the call), the instance stops itself: the delay is already served, so it drains and exits 0. With
/// <see cref="PreStopOptions.WhenNoStopFollows"/> set to <see cref="PreStopFollowUpAction.Rejoin"/> it returns to service
/// instead, and a later preStop call arms the wait again.
/// </summary>
internal sealed class PreStopFollowUp : IPreStopLeave, IDisposable
{
    private readonly TimeProvider _time;
    private readonly IHostApplicationLifetime _hostLifetime;
    private readonly LifecycleCoordinator _lifecycle;
    private readonly ILogger _logger;
    private readonly TimeSpan _wait;
    private readonly PreStopFollowUpAction _action;
    private ITimer? _timer;
    private CancellationTokenRegistration _stopping;

    public PreStopFollowUp(
        TimeProvider time, IHostApplicationLifetime hostLifetime, LifecycleCoordinator lifecycle, IOptions<GracefulLifecycleOptions> options, ShutdownPlan plan, ILogger<PreStopFollowUp> logger)
    {
        _time = time;
        _hostLifetime = hostLifetime;
        _lifecycle = lifecycle;
        _logger = logger;
        _action = options.Value.PreStop.WhenNoStopFollows;
        _wait = plan.PreStopFollowUpWait;
    }

    /// <summary>Gets how long after an accepted preStop call the instance waits for the host to start stopping.</summary>
    public TimeSpan Wait => _wait;

    public Task LeaveFromPreStopAsync(CancellationToken cancellationToken)
    {
        Arm();
        return _lifecycle.LeaveFromPreStopAsync(cancellationToken);
    }

    /// <summary>
    /// Starts the wait at the first accepted preStop call of a leave; later calls (the hook runs at least once) change
    /// nothing until the instance rejoins.
    /// </summary>
    private void Arm()
    {
        var timer = _time.CreateTimer(static s => ((PreStopFollowUp)s!).OnNoStop(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (Interlocked.CompareExchange(ref _timer, timer, null) is not null)
        {
            timer.Dispose();
            return;
        }

        // A stop that comes (SIGTERM, StopApplication) ends the wait; registering first means no timer fires after it.
        _stopping.Dispose();
        _stopping = _hostLifetime.ApplicationStopping.UnsafeRegister(static s => ((PreStopFollowUp)s!)._timer?.Dispose(), this);
        if (!_hostLifetime.ApplicationStopping.IsCancellationRequested)
        {
            timer.Change(_wait, Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose()
    {
        _stopping.Dispose();
        _timer?.Dispose();
    }

    private void OnNoStop()
    {
        if (_hostLifetime.ApplicationStopping.IsCancellationRequested)
        {
            return;
        }

        if (_action == PreStopFollowUpAction.Rejoin)
        {
            Log.NoStopAfterPreStopRejoining(_logger, _wait);
            if (_lifecycle.TryRejoin())
            {
                // The next leave's preStop call arms a new wait.
                Interlocked.Exchange(ref _timer, null)?.Dispose();
                return;
            }
        }
        else
        {
            Log.NoStopAfterPreStop(_logger, _wait);
        }

        // The same path SIGTERM takes to stop the host: leaving is done, so this drains (SignalR and WebSockets closed
        // before ApplicationStopping) and exits.
        _lifecycle.StopAfterLeaving("no stop after preStop");
    }
}
