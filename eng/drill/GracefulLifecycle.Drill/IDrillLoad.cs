namespace GracefulLifecycle.Drill;

/// <summary>
/// What keeps the service busy through a rollout: wrk for short HTTP requests, or real WebSocket or SignalR clients
/// for long-lived connections. The runner starts it once the service is steady and stops it after the last old
/// replica is gone; each load keeps its own counts.
/// </summary>
internal interface IDrillLoad : IAsyncDisposable
{
    /// <summary>Starts the load against the service and returns once it runs.</summary>
    Task StartAsync(Uri target);

    /// <summary>Stops the load and returns once its counts are final.</summary>
    Task StopAsync();
}
