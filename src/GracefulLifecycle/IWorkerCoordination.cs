using Microsoft.Extensions.Logging;

namespace GracefulLifecycle;

/// <summary>
/// What the worker bases (<see cref="GracefulBackgroundService"/>, <see cref="QueueWorker{TItem}"/>) need from the
/// lifecycle beyond <see cref="IGracefulLifecycle"/>: the leave with its outcome, the wait bounded by the drain, and
/// where to report a failure or work never started. A lifecycle without it (a test double) gets the plain behaviour.
/// </summary>
internal interface IWorkerCoordination
{
    ILogger Logger { get; }

    /// <summary>
    /// Gets the current Leaving token together with the task that tells how that leave ends: <see langword="true"/>
    /// when the instance rejoins, <see langword="false"/> once the drain has begun.
    /// </summary>
    (CancellationToken Leaving, Task<bool> Ends) CurrentLeave();

    /// <summary>Waits for <paramref name="task"/> until the drain deadline and a short grace after it.</summary>
    /// <returns><see langword="true"/> if the task ended within that time.</returns>
    Task<bool> WaitWithinDrainAsync(Task task, CancellationToken cancellationToken);

    /// <summary>A background service failed: like the host does for a <c>BackgroundService</c>, stop, but gracefully.</summary>
    void OnWorkerFailed(string service, Exception exception);

    /// <summary>Names and counts work a worker accepted but never started before the drain deadline.</summary>
    int ReportWorkNotStarted(IEnumerable<string> names);
}
