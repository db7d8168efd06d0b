using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Lifecycle;

internal static class TokenFiring
{
    /// <summary>Cancels a token without waiting for its callbacks; a callback that throws is logged, not thrown.</summary>
    public static void Fire(CancellationTokenSource source, ILogger logger, Action<ILogger, Exception> callbackFailed) =>
        _ = source.CancelAsync().ContinueWith(
            (task, state) => callbackFailed((ILogger)state!, task.Exception!),
            logger,
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
}
