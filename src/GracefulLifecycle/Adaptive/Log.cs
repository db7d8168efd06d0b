using GracefulLifecycle.Adaptive;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Diagnostics;

/// <summary>The adaptive delay and the shutdown timeline: event ids 80-99.</summary>
internal static partial class Log
{
    [LoggerMessage(80, LogLevel.Information, "Adaptive shutdown delay: at least {Floor} (set by {FloorSetBy}), at most {Maximum}; {Sending} peers were sending before leaving, {TooRare} too rarely to tell", EventName = "AdaptiveDelayStarted")]
    public static partial void AdaptiveDelayStarted(ILogger logger, TimeSpan floor, string floorSetBy, TimeSpan maximum, int sending, int tooRare);

    [LoggerMessage(81, LogLevel.Information, "Adaptive shutdown delay ended after {ElapsedMs} ms: {Reason} ({Detail})", EventName = "AdaptiveDelayEnded")]
    public static partial void AdaptiveDelayEnded(ILogger logger, long elapsedMs, DelayEnd reason, string detail);

    [LoggerMessage(82, LogLevel.Information,
        "Shutdown timeline ({Trigger}): leaving at {LeavingAt:O}; {RequestsAfterLeaving} requests arrived after it, the last {LastRequestMs} ms after it; delay {DelayEnd} at +{DelayEndMs} ms; drain from +{DrainStartMs} to +{DrainEndMs} ms; by peer: {Peers}; advice: {Advice}",
        EventName = "ShutdownTimeline")]
    public static partial void ShutdownTimeline(ILogger logger, string trigger, DateTimeOffset leavingAt, long requestsAfterLeaving, long? lastRequestMs, DelayEnd delayEnd, long delayEndMs, long drainStartMs, long drainEndMs, string peers, string advice);

    [LoggerMessage(83, LogLevel.Warning, "More than {MaxPeers} peers send requests: the others are counted together, and if any of them sent recently the adaptive delay lasts the maximum (AdaptiveDelay:MaxPeers)", EventName = "TrafficPeerLimitReached")]
    public static partial void TrafficPeerLimitReached(ILogger logger, int maxPeers);
}
