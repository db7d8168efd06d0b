namespace GracefulLifecycle;

/// <summary>
/// A scheduled job: runs once when the service starts (with the host, before the instance is ready), then once
/// every period, until the instance starts leaving. A run in progress when leaving starts is tracked work (<see cref="IGracefulLifecycle.BeginWork"/>): the
/// drain waits for it. Split a long job into short steps and check <c>leaving</c> before each one: when it has
/// fired, save your progress and return, so the next run (on this or another instance) resumes from there.
/// </summary>
public abstract class PeriodicWorker : GracefulBackgroundService
{
    private readonly TimeSpan _period;
    private readonly TimeProvider _timeProvider;
    private long _runs;

    /// <summary>Initializes a new instance of the <see cref="PeriodicWorker"/> class.</summary>
    /// <param name="lifecycle">The lifecycle, from dependency injection.</param>
    /// <param name="period">The time from the start of one run to the start of the next.</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> when null.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="period"/> is not positive.</exception>
    protected PeriodicWorker(IGracefulLifecycle lifecycle, TimeSpan period, TimeProvider? timeProvider = null)
        : base(lifecycle)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(period, TimeSpan.Zero);
        _period = period;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Runs the job once.</summary>
    /// <param name="leaving">Fires when the instance starts leaving: check it between steps, save and return.</param>
    /// <param name="aborted">Fires only if the run is still going at the drain deadline.</param>
    /// <returns>A task that completes when the run is over.</returns>
    protected abstract Task RunOnceAsync(CancellationToken leaving, CancellationToken aborted);

    /// <inheritdoc />
    protected sealed override async Task ExecuteAsync(CancellationToken leaving)
    {
        using var timer = new PeriodicTimer(_period, _timeProvider);
        while (!leaving.IsCancellationRequested)
        {
            var run = Interlocked.Increment(ref _runs);
            var work = Lifecycle.BeginWork($"{GetType().Name} run {run}");
            await using (work.ConfigureAwait(false))
            {
                try
                {
                    await RunOnceAsync(leaving, work.Aborted).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (work.Aborted.IsCancellationRequested)
                {
                    return;
                }
            }

            if (!await timer.WaitForNextTickAsync(leaving).ConfigureAwait(false))
            {
                return;
            }
        }
    }
}
