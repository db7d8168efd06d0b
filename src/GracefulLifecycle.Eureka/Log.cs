using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Eureka;

/// <summary>Every log line of the Eureka adapter, with stable event ids (100-119). Registration, renewal and
/// deregistration outcomes are logged by the lifecycle itself.</summary>
internal static partial class Log
{
    [LoggerMessage(100, LogLevel.Warning, "Eureka server {ServiceUrl} failed {Method} {Path} ({Reason}); failing over to {NextServiceUrl}", EventName = "FailingOver")]
    public static partial void FailingOver(ILogger logger, string serviceUrl, string method, string path, string reason, string nextServiceUrl);

    [LoggerMessage(101, LogLevel.Debug, "Eureka does not know instance {InstanceId} of {App} (never registered, or already evicted): nothing to deregister", EventName = "DeregisteredUnknownInstance")]
    public static partial void DeregisteredUnknownInstance(ILogger logger, string instanceId, string app);

    [LoggerMessage(102, LogLevel.Information, "Eureka server {ServiceUrl} answered; calls start there from now on", EventName = "ServiceUrlSwitched")]
    public static partial void ServiceUrlSwitched(ILogger logger, string serviceUrl);

    [LoggerMessage(103, LogLevel.Debug, "Eureka accepted instance {InstanceId} of {App} ({HostName}, {IpAddress}, port {Port}) at {ServiceUrl}", EventName = "InstanceRegistered")]
    public static partial void InstanceRegistered(ILogger logger, string instanceId, string app, string hostName, string ipAddress, int port, string serviceUrl);

    [LoggerMessage(104, LogLevel.Debug, "Eureka at {ServiceUrl} does not know instance {InstanceId} of {App} any more (heartbeat answered 404)", EventName = "HeartbeatNotFound")]
    public static partial void HeartbeatNotFound(ILogger logger, string serviceUrl, string instanceId, string app);

    [LoggerMessage(105, LogLevel.Debug, "Instance {InstanceId} of {App} removed from Eureka at {ServiceUrl}", EventName = "InstanceCanceled")]
    public static partial void InstanceCanceled(ILogger logger, string instanceId, string app, string serviceUrl);

    [LoggerMessage(106, LogLevel.Debug, "Not deregistering from Eureka: no registration was ever composed", EventName = "NothingToDeregister")]
    public static partial void NothingToDeregister(ILogger logger);
}
