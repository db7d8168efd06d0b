using System.Net;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Consul;

/// <summary>Every log line of the Consul adapter, with stable event ids (120-139) and names starting with "Consul".
/// Registration, renewal and deregistration outcomes are logged by the lifecycle itself; the adapter's own lines are
/// Debug, but for failover (Warning) and a change of server (Information).</summary>
internal static partial class Log
{
    [LoggerMessage(120, LogLevel.Debug,
        "Registering service {ServiceName} as {ServiceId} at {ServiceAddress}:{Port} with the Consul agent {Agent}; check {CheckUrl} every {CheckInterval}",
        EventName = "ConsulRegistering")]
    public static partial void Registering(ILogger logger, string serviceName, string serviceId, string serviceAddress, int port, string agent, string checkUrl, TimeSpan checkInterval);

    [LoggerMessage(121, LogLevel.Debug, "Consul agent answered {Method} {Path} with {StatusCode} in {ElapsedMs} ms", EventName = "ConsulCallCompleted")]
    public static partial void CallCompleted(ILogger logger, string method, string path, int statusCode, long elapsedMs);

    [LoggerMessage(122, LogLevel.Debug, "The Consul agent no longer knows service {ServiceId} (404); it must be registered again", EventName = "ConsulServiceUnknown")]
    public static partial void ServiceUnknown(ILogger logger, string serviceId);

    [LoggerMessage(123, LogLevel.Debug, "The Consul agent did not know service {ServiceId} when deregistering it (404); nothing to remove", EventName = "ConsulDeregisterUnknown")]
    public static partial void DeregisterUnknown(ILogger logger, string serviceId);

    [LoggerMessage(124, LogLevel.Debug, "No registration was sent to the Consul agent; nothing to deregister", EventName = "ConsulDeregisterSkipped")]
    public static partial void DeregisterSkipped(ILogger logger);

    [LoggerMessage(125, LogLevel.Debug, "Deregistering service {ServiceId} from the Consul agent {Agent}", EventName = "ConsulDeregistering")]
    public static partial void Deregistering(ILogger logger, string serviceId, string agent);

    [LoggerMessage(126, LogLevel.Debug, "Consul agent call {Method} {Path} failed with {StatusCode}: {Body}", EventName = "ConsulCallRefused")]
    public static partial void CallRefused(ILogger logger, string method, string path, HttpStatusCode statusCode, string body);

    [LoggerMessage(127, LogLevel.Warning, "Consul agent {Agent} failed {Method} {Path} ({Reason}); failing over to {NextAgent}", EventName = "ConsulFailingOver")]
    public static partial void FailingOver(ILogger logger, string agent, string method, string path, string reason, string nextAgent);

    [LoggerMessage(128, LogLevel.Information, "Consul agent {Agent} answered; calls start there from now on", EventName = "ConsulServerSwitched")]
    public static partial void ServerSwitched(ILogger logger, string agent);
}
