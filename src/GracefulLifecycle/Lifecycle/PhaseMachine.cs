using GracefulLifecycle.Diagnostics;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Lifecycle;

/// <summary>
/// Owns the phase and the <see cref="Ready"/> task, and publishes each change (log line and
/// <see cref="PhaseChanged"/>) in the order it happened. The phase only moves forward, except for a rejoin, which
/// moves it back through <see cref="MoveLocked"/> under <see cref="Gate"/>.
/// </summary>
internal sealed class PhaseMachine : ILifecycleState
{
    private readonly Lock _publishGate = new();
    private readonly Queue<PhaseChange> _pendingChanges = new();
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _phase;
    private long _phaseStarted;

    public PhaseMachine(TimeProvider time, LifecycleMetrics metrics, ILogger<LifecycleCoordinator> logger)
    {
        _time = time;
        _logger = logger;
        _phaseStarted = time.GetTimestamp();
        metrics.ObservePhaseOf(() => Phase);
    }

    public event EventHandler<LifecyclePhaseChangedEventArgs>? PhaseChanged;

    /// <summary>
    /// Gets the lock under which the phase changes; the leave sequence holds it too, so that its state and the phase
    /// change together.
    /// </summary>
    public Lock Gate { get; } = new();

    public LifecyclePhase Phase => (LifecyclePhase)Volatile.Read(ref _phase);

    public Task Ready => _ready.Task;

    /// <summary>Gets or sets the sender of <see cref="PhaseChanged"/>: the lifecycle the application sees.</summary>
    public object? Sender { get; set; }

    public void ReadyCanceled(CancellationToken token) => _ready.TrySetCanceled(token);

    public void ReadyFailed(Exception exception) => _ready.TrySetException(exception);

    /// <summary>Ready, unless leaving won the race: the phase and the Ready task change together.</summary>
    public void BecomeReady()
    {
        lock (Gate)
        {
            if (AdvanceLocked(LifecyclePhase.Ready))
            {
                _ready.TrySetResult();
            }
        }

        PublishPending();
    }

    public bool Advance(LifecyclePhase to, bool publishHere = true)
    {
        bool advanced;
        lock (Gate)
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
    public void Publish(bool here)
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

    public bool AdvanceLocked(LifecyclePhase to)
    {
        if (to <= Phase)
        {
            return false;
        }

        MoveLocked(to);
        return true;
    }

    /// <summary>Sets the phase, forward or (only to rejoin) back, and queues the change for publication.</summary>
    public void MoveLocked(LifecyclePhase to)
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
                lock (Gate)
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
                            ((EventHandler<LifecyclePhaseChangedEventArgs>)handler)(Sender ?? this, args);
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
