namespace GracefulLifecycle.Sample;

internal static partial class SampleLog
{
    [LoggerMessage(1001, LogLevel.Information, "Warming up the cache for {Duration}")]
    public static partial void WarmupStarted(ILogger logger, TimeSpan duration);

    [LoggerMessage(1002, LogLevel.Information, "Slow request started ({Ms} ms)")]
    public static partial void SlowRequestStarted(ILogger logger, int ms);

    [LoggerMessage(1003, LogLevel.Information, "Slow request completed ({Ms} ms)")]
    public static partial void SlowRequestCompleted(ILogger logger, int ms);
}
