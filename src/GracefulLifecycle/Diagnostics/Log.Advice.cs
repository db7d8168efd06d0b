using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Diagnostics;

/// <summary>The shutdown advice of a platform package (<see cref="IShutdownAdvisor"/>): event ids 75-79.</summary>
internal static partial class Log
{
    [LoggerMessage(75, LogLevel.Information, "Shutdown advice: {Case}; deadline {Deadline}", EventName = "ShutdownAdvice")]
    public static partial void ShutdownAdvice(ILogger logger, string @case, string deadline);

    [LoggerMessage(76, LogLevel.Warning, "Shutdown fitted to the deadline, {Left} away: delay {PlannedDelay} cut to {Delay} (floor {Floor}), drain timeout {PlannedDrain} cut to {Drain}, margin {Margin} kept", EventName = "ShutdownFitted")]
    public static partial void ShutdownFitted(ILogger logger, TimeSpan left, TimeSpan plannedDelay, TimeSpan delay, TimeSpan floor, TimeSpan plannedDrain, TimeSpan drain, TimeSpan margin);

    [LoggerMessage(77, LogLevel.Information, "Holding the shutdown delay until {HoldReason}, for at most {Bound}", EventName = "ShutdownDelayHeld")]
    public static partial void ShutdownDelayHeld(ILogger logger, string holdReason, TimeSpan bound);

    [LoggerMessage(78, LogLevel.Information, "Hold of the shutdown delay ended after {ElapsedMs} ms: {Outcome}", EventName = "ShutdownDelayHoldEnded")]
    public static partial void ShutdownDelayHoldEnded(ILogger logger, long elapsedMs, string outcome);

    [LoggerMessage(79, LogLevel.Warning, "Shutdown advisor {Advisor} gave no advice ({Reason}): the shutdown goes on as planned", EventName = "ShutdownAdviceMissing")]
    public static partial void ShutdownAdviceMissing(ILogger logger, string advisor, string reason, Exception? exception);
}
