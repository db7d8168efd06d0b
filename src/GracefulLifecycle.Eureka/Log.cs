using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Eureka;

/// <summary>Every log line of the Eureka adapter, with stable event ids (100-119; the endpoint provider's 108-119) and names starting with "Eureka".
/// Registration, renewal and deregistration outcomes are logged by the lifecycle itself; the adapter's own lines are
/// Debug, but for failover (Warning) and a change of server (Information).</summary>
internal static partial class Log
{
    [LoggerMessage(100, LogLevel.Warning, "Eureka server {ServiceUrl} failed {Method} {Path} ({Reason}); failing over to {NextServiceUrl}", EventName = "EurekaFailingOver")]
    public static partial void FailingOver(ILogger logger, string serviceUrl, string method, string path, string reason, string nextServiceUrl);

    [LoggerMessage(101, LogLevel.Debug, "Eureka does not know instance {InstanceId} of {App} (never registered, or already evicted): nothing to deregister", EventName = "EurekaDeregisteredUnknownInstance")]
    public static partial void DeregisteredUnknownInstance(ILogger logger, string instanceId, string app);

    [LoggerMessage(102, LogLevel.Information, "Eureka server {ServiceUrl} answered; calls start there from now on", EventName = "EurekaServerSwitched")]
    public static partial void ServerSwitched(ILogger logger, string serviceUrl);

    [LoggerMessage(103, LogLevel.Debug, "Eureka accepted instance {InstanceId} of {App} ({HostName}, {IpAddress}, port {Port}) at {ServiceUrl}", EventName = "EurekaRegistered")]
    public static partial void InstanceRegistered(ILogger logger, string instanceId, string app, string hostName, string ipAddress, int port, string serviceUrl);

    [LoggerMessage(104, LogLevel.Debug, "Eureka at {ServiceUrl} does not know instance {InstanceId} of {App} any more (heartbeat answered 404)", EventName = "EurekaInstanceUnknown")]
    public static partial void InstanceUnknown(ILogger logger, string serviceUrl, string instanceId, string app);

    [LoggerMessage(105, LogLevel.Debug, "Instance {InstanceId} of {App} removed from Eureka at {ServiceUrl}", EventName = "EurekaDeregistered")]
    public static partial void Deregistered(ILogger logger, string instanceId, string app, string serviceUrl);

    [LoggerMessage(106, LogLevel.Debug, "Not deregistering from Eureka: no registration was ever composed", EventName = "EurekaNothingToDeregister")]
    public static partial void NothingToDeregister(ILogger logger);

    [LoggerMessage(107, LogLevel.Debug, "Eureka server answered {Method} {Path} with {StatusCode} in {ElapsedMs} ms", EventName = "EurekaCallCompleted")]
    public static partial void CallCompleted(ILogger logger, string method, string path, int statusCode, long elapsedMs);

    [LoggerMessage(108, LogLevel.Warning, "Eureka: the instances of {ServiceName} could not be read ({Reason}); keeping the last list of {Instances} and retrying in {RetryMs} ms (backing off to 5 s)", EventName = "EurekaProviderUnreachable")]
    public static partial void ProviderUnreachable(ILogger logger, string serviceName, string reason, long retryMs, int instances);

    [LoggerMessage(109, LogLevel.Information, "Eureka: the instances of {ServiceName} are read again ({Instances} now)", EventName = "EurekaProviderReconnected")]
    public static partial void ProviderReconnected(ILogger logger, string serviceName, int instances);

    [LoggerMessage(110, LogLevel.Debug, "Eureka: the UP instances of {ServiceName} changed ({Instances} now); the resolver refreshes", EventName = "EurekaProviderChanged")]
    public static partial void ProviderChanged(ILogger logger, string serviceName, int instances);

    [LoggerMessage(111, LogLevel.Debug, "Eureka: the last delta of {ServiceName} is older than the server keeps changes; reading the application whole", EventName = "EurekaProviderFullRead")]
    public static partial void ProviderFullRead(ILogger logger, string serviceName);

    [LoggerMessage(112, LogLevel.Debug, "Eureka: instance {InstanceId} of {ServiceName} has no host name or enabled port; it is not resolved", EventName = "EurekaProviderSkippedInstance")]
    public static partial void ProviderSkippedInstance(ILogger logger, string serviceName, string instanceId);
}
