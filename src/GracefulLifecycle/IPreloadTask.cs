namespace GracefulLifecycle;

/// <summary>
/// Work that must finish before the instance reports ready, such as warming a cache. Preload tasks run after the
/// server has started (so liveness answers during a long preload), all at once, each bounded by its timeout.
/// A task that throws or times out stops the application with a non-zero exit code.
/// </summary>
/// <remarks>Implementations are resolved from a service scope created for the preload run; they need not be registered.</remarks>
public interface IPreloadTask
{
    /// <summary>Runs the preload work.</summary>
    /// <param name="cancellationToken">Fires when the task times out or shutdown starts.</param>
    /// <returns>A task that completes when the work is done.</returns>
    Task PreloadAsync(CancellationToken cancellationToken);
}
