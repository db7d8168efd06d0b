namespace GracefulLifecycle;

/// <summary>
/// What an accepted preStop call starts: the wait for the stop that should follow it, then the leave of
/// <see cref="IGracefulLifecycle.LeaveAsync"/>, logged as the endpoint's.
/// </summary>
internal interface IPreStopLeave
{
    /// <returns>A task that completes when the shutdown delay is served.</returns>
    Task LeaveFromPreStopAsync(CancellationToken cancellationToken);
}
