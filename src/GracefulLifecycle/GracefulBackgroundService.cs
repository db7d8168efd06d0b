using GracefulLifecycle.Diagnostics;
using Microsoft.Extensions.Hosting;

namespace GracefulLifecycle;

/// <summary>
/// A background service that stops taking work when the instance starts leaving and finishes what it holds during
/// the drain, instead of being cancelled when the host reaches it. A plain <c>BackgroundService</c> gets its
/// <c>stoppingToken</c> cancelled the moment the host stops it, so an item in progress is cut off however much of
/// <see cref="GracefulLifecycleOptions.DrainTimeout"/> is left. Here the token given to
/// <see cref="ExecuteAsync"/> is <see cref="IGracefulLifecycle.Leaving"/>, and stopping waits for
/// <see cref="ExecuteAsync"/> to return, until the drain deadline. Wrap each unit of work in
/// <see cref="IGracefulLifecycle.BeginWork"/> so that it is named if the deadline cuts it off; <see cref="QueueWorker{TItem}"/>
/// and <see cref="PeriodicWorker"/> do that for you.
/// </summary>
/// <remarks>
/// As with <c>BackgroundService</c>, an exception escaping <see cref="ExecuteAsync"/> stops the application, here
/// gracefully (leaving, then drain) and with exit code 1; an <see cref="OperationCanceledException"/> for the
/// <c>leaving</c> token itself is the normal way to stop. At the drain deadline the work's <c>Aborted</c> token
/// fires and the service gets half of <see cref="GracefulLifecycleOptions.ShutdownMargin"/> more to save and return.
/// </remarks>
public abstract class GracefulBackgroundService : IHostedService, IDisposable
{
    private Task? _executing;

    /// <summary>Initializes a new instance of the <see cref="GracefulBackgroundService"/> class.</summary>
    /// <param name="lifecycle">The lifecycle, from dependency injection.</param>
    protected GracefulBackgroundService(IGracefulLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        Lifecycle = lifecycle;
    }

    /// <summary>Gets the lifecycle: <see cref="IGracefulLifecycle.BeginWork"/> and the tokens.</summary>
    protected IGracefulLifecycle Lifecycle { get; }

    /// <summary>Gets the task running <see cref="ExecuteAsync"/>, once started.</summary>
    public Task? ExecuteTask => _executing;

    /// <inheritdoc />
    public virtual Task StartAsync(CancellationToken cancellationToken)
    {
        // Off the host's start path, as BackgroundService does after its first await.
        _executing = Task.Run(RunAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Waits for <see cref="ExecuteAsync"/> to return, until the drain deadline (when tracked work is aborted) or
    /// until the host gives up.
    /// </summary>
    /// <param name="cancellationToken">The host's stop token.</param>
    /// <returns>A task that completes when the service has stopped or is no longer waited for.</returns>
    public virtual async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_executing is not { } executing)
        {
            return;
        }

        if (Lifecycle is not IWorkerCoordination coordinator)
        {
            await executing.WaitAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        // Until the drain deadline, when the item's Aborted token fires, then a moment for it to save.
        if (!await coordinator.WaitWithinDrainAsync(executing, cancellationToken).ConfigureAwait(false))
        {
            Log.WorkerAbandoned(coordinator.Logger, GetType().Name);
        }
    }

    /// <summary>Releases nothing by default; override to release the service's resources.</summary>
    public virtual void Dispose() => GC.SuppressFinalize(this);

    /// <summary>
    /// Does the service's work. Stop taking new work when <paramref name="leaving"/> fires and return once the work
    /// in hand is done; long jobs split into short steps check it before each step, save their progress and return.
    /// </summary>
    /// <param name="leaving">
    /// Fires when the instance starts leaving (<see cref="IGracefulLifecycle.Leaving"/>). If the instance later
    /// rejoins instead of stopping (<see cref="PreStopOptions.WhenNoStopFollows"/>), this method is called again with
    /// the new token.
    /// </param>
    /// <returns>A task that completes when the service has no more work to do.</returns>
    protected abstract Task ExecuteAsync(CancellationToken leaving);

    private async Task RunAsync()
    {
        var coordinator = Lifecycle as IWorkerCoordination;
        while (true)
        {
            var (leaving, leaveEnds) = coordinator?.CurrentLeave() ?? (Lifecycle.Leaving, Task.FromResult(false));
            try
            {
                await ExecuteAsync(leaving).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex) when (ex.CancellationToken == leaving)
            {
                // Stopped taking work, as asked. Any other cancellation (a timeout in an item) is a failure like any other.
            }
            catch (Exception ex) when (coordinator is not null)
            {
                coordinator.OnWorkerFailed(GetType().Name, ex);
                return;
            }

            // A service that returned on its own is done. One that stopped for a leave runs again if the instance
            // rejoins (PreStop:WhenNoStopFollows = Rejoin) rather than draining.
            if (!leaving.IsCancellationRequested || !await leaveEnds.ConfigureAwait(false))
            {
                return;
            }
        }
    }
}
