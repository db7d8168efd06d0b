using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Etcd;

/// <summary>Every log line of the etcd adapter, with stable event ids (140-159; the endpoint provider's 152-159) and names starting with "Etcd".
/// Registration, renewal and deregistration outcomes are logged by the lifecycle itself; the adapter's own lines are
/// Debug, but for failover and a key someone else deleted or took (Warning) and a change of endpoint (Information).</summary>
internal static partial class Log
{
    [LoggerMessage(140, LogLevel.Debug, "etcd: lease {LeaseId} granted for {Ttl} s; wrote {Key}", EventName = "EtcdRegistered")]
    public static partial void Registered(ILogger logger, long leaseId, long ttl, string key);

    [LoggerMessage(141, LogLevel.Debug, "etcd: lease {LeaseId} is gone (expired or revoked); the key {Key} must be written again", EventName = "EtcdLeaseLost")]
    public static partial void LeaseLost(ILogger logger, long leaseId, string key);

    [LoggerMessage(142, LogLevel.Debug, "etcd: lease {LeaseId} revoked; {Key} deleted", EventName = "EtcdLeaseRevoked")]
    public static partial void LeaseRevoked(ILogger logger, long leaseId, string key);

    [LoggerMessage(143, LogLevel.Debug, "etcd: lease {LeaseId} was already gone when revoking it", EventName = "EtcdLeaseAlreadyGone")]
    public static partial void LeaseAlreadyGone(ILogger logger, long leaseId);

    [LoggerMessage(144, LogLevel.Warning, "etcd endpoint {Endpoint} failed {Method} {Path} ({Reason}); failing over to {NextEndpoint}", EventName = "EtcdFailingOver")]
    public static partial void FailingOver(ILogger logger, string endpoint, string method, string path, string reason, string nextEndpoint);

    [LoggerMessage(145, LogLevel.Information, "etcd endpoint {Endpoint} answered; calls start there from now on", EventName = "EtcdServerSwitched")]
    public static partial void ServerSwitched(ILogger logger, string endpoint);

    [LoggerMessage(146, LogLevel.Debug, "etcd answered {Method} {Path} with {StatusCode} in {ElapsedMs} ms", EventName = "EtcdCallCompleted")]
    public static partial void CallCompleted(ILogger logger, string method, string path, int statusCode, long elapsedMs);

    [LoggerMessage(147, LogLevel.Debug, "Not deregistering from etcd: no lease was ever granted", EventName = "EtcdNothingToDeregister")]
    public static partial void NothingToDeregister(ILogger logger);

    [LoggerMessage(150, LogLevel.Debug, "etcd: the key {Key} is held by lease {HolderLease}, not by this instance; not overwriting it ({Reason})", EventName = "EtcdKeyTaken")]
    public static partial void KeyTaken(ILogger logger, string key, long holderLease, string reason);

    [LoggerMessage(151, LogLevel.Warning, "etcd: the key {Key} is no longer held by lease {LeaseId}, which lives on (now held by {HolderLease}: -1 deleted, 0 without a lease); revoking the lease and registering again", EventName = "EtcdKeyLost")]
    public static partial void KeyLost(ILogger logger, string key, long leaseId, long holderLease);

    [LoggerMessage(152, LogLevel.Warning, "etcd: the instances of {ServiceName} could not be read ({Reason}); keeping the last list of {Instances} and retrying in {RetryMs} ms (backing off to 5 s)", EventName = "EtcdProviderUnreachable")]
    public static partial void ProviderUnreachable(ILogger logger, string serviceName, string reason, long retryMs, int instances);

    [LoggerMessage(153, LogLevel.Information, "etcd: the instances of {ServiceName} are read again ({Instances} now)", EventName = "EtcdProviderReconnected")]
    public static partial void ProviderReconnected(ILogger logger, string serviceName, int instances);

    [LoggerMessage(154, LogLevel.Debug, "etcd: the instances of {ServiceName} changed ({Instances} now); the resolver refreshes", EventName = "EtcdProviderChanged")]
    public static partial void ProviderChanged(ILogger logger, string serviceName, int instances);

    [LoggerMessage(155, LogLevel.Debug, "etcd: watching the instances of {ServiceName} from revision {Revision}", EventName = "EtcdProviderWatching")]
    public static partial void ProviderWatching(ILogger logger, string serviceName, long revision);

    [LoggerMessage(156, LogLevel.Debug, "etcd: the key {Key} holds no instance (JSON with an address and a port); it is not resolved", EventName = "EtcdProviderSkippedKey")]
    public static partial void ProviderSkippedKey(ILogger logger, string key);
}
