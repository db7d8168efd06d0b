using GracefulLifecycle.Adaptive;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Diagnostics;

/// <summary>The adaptive delay and the shutdown timeline: event ids 80-99.</summary>
internal static partial class Log
{
    [LoggerMessage(80, LogLevel.Information, "Adaptive shutdown delay: at least {Floor} (set by {FloorSetBy}), at most {Maximum}; peers sending before leaving: {Sending}, of them too rarely to tell: {TooRare}", EventName = "AdaptiveDelayStarted")]
    public static partial void AdaptiveDelayStarted(ILogger logger, TimeSpan floor, string floorSetBy, TimeSpan maximum, int sending, int tooRare);

    [LoggerMessage(81, LogLevel.Information, "Adaptive shutdown delay ended after {ElapsedMs} ms: {Reason} ({Detail})", EventName = "AdaptiveDelayEnded")]
    public static partial void AdaptiveDelayEnded(ILogger logger, long elapsedMs, DelayEnd reason, string detail);

    [LoggerMessage(82, LogLevel.Information,
        "Shutdown timeline ({Trigger}): leaving at {LeavingAt:O}; {AfterLeaving}; {Delay}; drain from +{DrainStartMs} to +{DrainEndMs} ms; by peer: {Peers}; advice: {Advice}",
        EventName = "ShutdownTimeline")]
    public static partial void ShutdownTimeline(ILogger logger, string trigger, DateTimeOffset leavingAt, string afterLeaving, string delay, long drainStartMs, long drainEndMs, string peers, string advice);

    [LoggerMessage(83, LogLevel.Warning, "More peers send requests than AdaptiveDelay:MaxPeers ({MaxPeers}): the others are counted together, and if any of them sent recently the adaptive delay lasts the maximum", EventName = "TrafficPeerLimitReached")]
    public static partial void TrafficPeerLimitReached(ILogger logger, int maxPeers);
}
