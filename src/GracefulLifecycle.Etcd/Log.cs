using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Etcd;

/// <summary>The etcd adapter's log lines (event ids 140-159).</summary>
internal static partial class Log
{
    [LoggerMessage(140, LogLevel.Debug, "etcd: lease {LeaseId} granted for {Ttl} s; wrote {Key}", EventName = "EtcdRegistered")]
    public static partial void Registered(ILogger logger, long leaseId, long ttl, string key);

    [LoggerMessage(141, LogLevel.Warning, "etcd: lease {LeaseId} is gone (expired or revoked); the key {Key} must be written again", EventName = "EtcdLeaseLost")]
    public static partial void LeaseLost(ILogger logger, long leaseId, string key);

    [LoggerMessage(142, LogLevel.Debug, "etcd: lease {LeaseId} revoked; {Key} deleted", EventName = "EtcdLeaseRevoked")]
    public static partial void LeaseRevoked(ILogger logger, long leaseId, string key);

    [LoggerMessage(143, LogLevel.Debug, "etcd: lease {LeaseId} was already gone when revoking it", EventName = "EtcdLeaseAlreadyGone")]
    public static partial void LeaseAlreadyGone(ILogger logger, long leaseId);

    [LoggerMessage(144, LogLevel.Warning, "etcd: {Endpoint} failed ({Reason}); trying the next endpoint", EventName = "EtcdEndpointFailed")]
    public static partial void EndpointFailed(ILogger logger, string endpoint, string reason);
}
