
namespace GracefulLifecycle;

/// <summary>
/// A consumer that takes items until the instance starts leaving and finishes the item it holds: each item is
/// tracked work (<see cref="IGracefulLifecycle.BeginWork"/>), so the drain waits for it and the process exits as soon
/// as it is done. Only if <see cref="GracefulLifecycleOptions.DrainTimeout"/> runs out is the item's token cancelled,
/// and the item named in the log; so are the items accepted but not started, which <see cref="TakeNotStarted"/> hands
/// over, so that no accepted item goes unreported.
/// </summary>
/// <typeparam name="TItem">The type of the items consumed.</typeparam>
/// <remarks>
/// With a message broker, <see cref="ReceiveAsync"/> stops receiving when <c>leaving</c> fires; messages not yet
/// received stay in the broker for the other instances. With an in-memory queue, stop accepting new items when
/// leaving starts (answer 503 so clients go elsewhere), complete the queue's writer, let the sequence run to its end,
/// and override <see cref="TakeNotStarted"/> to take what is still queued when the drain deadline comes first.
/// </remarks>
public abstract class QueueWorker<TItem> : GracefulBackgroundService
{
    /// <summary>Initializes a new instance of the <see cref="QueueWorker{TItem}"/> class.</summary>
    /// <param name="lifecycle">The lifecycle, from dependency injection.</param>
    protected QueueWorker(IGracefulLifecycle lifecycle)
        : base(lifecycle)
    {
    }

    /// <summary>
    /// Returns the items to process. The sequence ends (or throws <see cref="OperationCanceledException"/>) when
    /// <paramref name="leaving"/> fires, unless the items already accepted must still be processed.
    /// </summary>
    /// <param name="leaving">Fires when the instance starts leaving.</param>
    /// <returns>The items, one at a time.</returns>
    protected abstract IAsyncEnumerable<TItem> ReceiveAsync(CancellationToken leaving);

    /// <summary>Processes one item to its end.</summary>
    /// <param name="item">The item.</param>
    /// <param name="aborted">Fires only if the item is still running at the drain deadline.</param>
    /// <returns>A task that completes when the item is done.</returns>
    protected abstract Task ProcessAsync(TItem item, CancellationToken aborted);

    /// <summary>Names an item in logs; the default is the item's <c>ToString()</c>.</summary>
    /// <param name="item">The item.</param>
    /// <returns>A short name, such as an id.</returns>
    protected virtual string GetWorkName(TItem item) => item?.ToString() ?? typeof(TItem).Name;

    /// <summary>
    /// Takes the items accepted but not started when the drain deadline stops the worker (those still in an in-memory
    /// queue): each is named in the log (event <c>WorkNotStarted</c>) and counted
    /// (<c>gracefullifecycle.drain.not_started_work</c>), as the item cut off is. Called once, after that item.
    /// </summary>
    /// <returns>The items never started; the default is none, right for a broker, which keeps what was not received.</returns>
    protected virtual IEnumerable<TItem> TakeNotStarted() => [];

    /// <inheritdoc />
    protected sealed override async Task ExecuteAsync(CancellationToken leaving)
    {
        await foreach (var item in ReceiveAsync(leaving).ConfigureAwait(false))
        {
            var work = Lifecycle.BeginWork(GetWorkName(item));
            await using (work.ConfigureAwait(false))
            {
                try
                {
                    await ProcessAsync(item, work.Aborted).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (work.Aborted.IsCancellationRequested)
                {
                    // Cut off at the drain deadline, and reported as such: there is no time for another item. What
                    // was accepted behind it is reported too, or it would vanish without a trace when the process exits.
                    ReportNotStarted();
                    return;
                }
            }
        }
    }

    private void ReportNotStarted()
    {
        var names = TakeNotStarted().Select(GetWorkName);
        if (Lifecycle is IWorkerCoordination coordinator)
        {
            coordinator.ReportWorkNotStarted(names);
        }
        else
        {
            // Another lifecycle (a test double) has no tracker to report to: the items are still taken, once.
            foreach (var _ in names)
            {
            }
        }
    }
}
