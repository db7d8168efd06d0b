using GracefulLifecycle.Diagnostics;
using GracefulLifecycle.Draining;
using GracefulLifecycle.Shutdown;
using GracefulLifecycle.Work;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Lifecycle;

/// <summary>
/// What the drain waits for and, at its deadline, aborts: requests in flight, open connections, WebSockets and
/// tracked work. Each action logs and counts what it touched.
/// </summary>
internal sealed class DrainTargets(
    RequestTracker requests,
    ConnectionTracker connections,
    WebSocketTracker webSockets,
    WorkTracker work,
    LifecycleMetrics metrics,
    ShutdownAdvisors advisors,
    ShutdownPlan plan,
    ILogger<LifecycleCoordinator> logger)
{
    public void LogDrainStarted() =>
        Log.DrainStarted(logger, requests.InFlight, work.Count, webSockets.Count, advisors.DrainTimeout);

    /// <summary>Bounds the close handshakes from now on, those the application starts on Draining included.</summary>
    public void BeginWebSocketDrain() => webSockets.BeginDrain();

    public Task CloseHubConnectionsAsync() => webSockets.CloseHubConnectionsAsync();

    public Task WhenWorkIdleAsync() => work.WhenIdleAsync();

    public void CloseWebSockets()
    {
        var closed = webSockets.CloseAll();
        if (closed > 0)
        {
            Log.WebSocketsClosing(logger, closed, plan.WebSocketCloseDelay);
            metrics.WebSocketsClosed(closed);
        }
    }

    /// <summary>Aborts what is left at the deadline.</summary>
    /// <returns>The number of requests aborted.</returns>
    public long AbortAll()
    {
        var aborted = AbortRequestsInFlight();
        AbortConnections();

        // Work is told without waiting for its callbacks: a slow one must not hold the rest of the deadline.
        work.AbandonAll();
        return aborted;
    }

    private long AbortRequestsInFlight()
    {
        var count = requests.AbortAll();
        if (count > 0)
        {
            metrics.RequestsAborted(count);
            Log.DrainTimedOut(logger, advisors.DrainTimeout, count);
        }

        return count;
    }

    /// <summary>
    /// Aborts every connection still open, those whose request never reached the application included (unfinished
    /// headers, an unread body, idle): the server's own stop would wait for them until the host's timeout.
    /// </summary>
    private void AbortConnections()
    {
        var count = connections.AbortAll();
        if (count > 0)
        {
            Log.ConnectionsAbortedAtDeadline(logger, advisors.DrainTimeout, count);
        }
    }
}
