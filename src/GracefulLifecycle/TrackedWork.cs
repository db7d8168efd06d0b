using GracefulLifecycle.Work;

namespace GracefulLifecycle;

/// <summary>
/// A unit of work the drain waits for, from <see cref="IGracefulLifecycle.BeginWork"/> until it is disposed.
/// Dispose it when the work ends, whether it succeeded or not (<c>await using var work = lifecycle.BeginWork("invoice-42");</c>).
/// </summary>
public sealed class TrackedWork : IDisposable, IAsyncDisposable
{
    private readonly WorkTracker? _tracker;
    private readonly CancellationTokenSource _aborted = new();
    private int _ended;

    internal TrackedWork(string name, WorkTracker? tracker, long started)
    {
        Name = name;
        _tracker = tracker;
        Started = started;
    }

    /// <summary>Gets the name the work was begun with; it names the work in logs if the drain gives up on it.</summary>
    public string Name { get; }

    /// <summary>
    /// Gets a token that fires if the work is still running when <see cref="GracefulLifecycleOptions.DrainTimeout"/>
    /// runs out: the process is about to exit, so save what can be saved and stop. It never fires while the instance
    /// is only leaving or draining; stopping to take new work is what <see cref="IGracefulLifecycle.Leaving"/> is for.
    /// </summary>
    public CancellationToken Aborted => _aborted.Token;

    internal long Started { get; }

    internal bool HasEnded => Volatile.Read(ref _ended) != 0;

    /// <summary>Ends the work: the drain no longer waits for it. Calling it again does nothing.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _ended, 1) == 0)
        {
            // The token source has no timer: it is left undisposed so that Aborted stays readable after the work ends.
            _tracker?.End(this);
        }
    }

    /// <summary>Ends the work: the drain no longer waits for it. Calling it again does nothing.</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public override string ToString() => Name;

    /// <summary>
    /// Fires <see cref="Aborted"/> without waiting for its callbacks, which run on the thread pool; one that throws is
    /// the work's own business and is observed here so it does not go unnoticed as an unobserved task exception.
    /// </summary>
    internal void Abort() =>
        _ = _aborted.CancelAsync().ContinueWith(
            static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
}
