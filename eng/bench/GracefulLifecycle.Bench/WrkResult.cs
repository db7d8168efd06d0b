namespace GracefulLifecycle.Bench;

/// <summary>What one timed wrk run reported.</summary>
/// <param name="RequestsPerSecond">wrk's <c>Requests/sec</c>.</param>
/// <param name="Requests">Requests completed.</param>
/// <param name="Non2xx">Responses wrk counted as errors: status 400 or above, whatever its label says.</param>
/// <param name="SocketErrors">Connect, read, write and timeout errors together.</param>
/// <param name="LatencyP50Ms">Median latency in milliseconds.</param>
/// <param name="LatencyP99Ms">99th percentile latency in milliseconds.</param>
internal sealed record WrkResult(double RequestsPerSecond, long Requests, long Non2xx, long SocketErrors, double LatencyP50Ms, double LatencyP99Ms);
