namespace GracefulLifecycle.Sample;

internal static partial class SampleLog
{
    [LoggerMessage(1001, LogLevel.Information, "Warming up the cache for {Duration}")]
    public static partial void WarmupStarted(ILogger logger, TimeSpan duration);

    [LoggerMessage(1002, LogLevel.Information, "Slow request started ({Ms} ms)")]
    public static partial void SlowRequestStarted(ILogger logger, int ms);

    [LoggerMessage(1003, LogLevel.Information, "Slow request completed ({Ms} ms)")]
    public static partial void SlowRequestCompleted(ILogger logger, int ms);

    [LoggerMessage(1004, LogLevel.Information, "Job {JobId} accepted ({Ms} ms)")]
    public static partial void JobAccepted(ILogger logger, string jobId, int ms);

    [LoggerMessage(1005, LogLevel.Information, "Job {JobId} started ({Ms} ms)")]
    public static partial void JobStarted(ILogger logger, string jobId, int ms);

    [LoggerMessage(1006, LogLevel.Information, "Job {JobId} completed ({Ms} ms)")]
    public static partial void JobCompleted(ILogger logger, string jobId, int ms);

    [LoggerMessage(1007, LogLevel.Warning, "Job {JobId} abandoned at the drain deadline")]
    public static partial void JobAbandoned(ILogger logger, string jobId);
}
