using System.Net;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Consul;

/// <summary>Every log line of the Consul adapter, with stable event ids (120-139; the endpoint provider's 129-139) and names starting with "Consul".
/// Registration, renewal and deregistration outcomes are logged by the lifecycle itself; the adapter's own lines are
/// Debug. The adapter talks to one agent (the local one), so it has no failover lines: the shared transport calls them
/// only with more than one server.</summary>
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

    [LoggerMessage(129, LogLevel.Warning, "Consul: the instances of {ServiceName} could not be read ({Reason}); keeping the last list of {Instances} and retrying in {RetryMs} ms (backing off to 5 s)", EventName = "ConsulProviderUnreachable")]
    public static partial void ProviderUnreachable(ILogger logger, string serviceName, string reason, long retryMs, int instances);

    [LoggerMessage(130, LogLevel.Information, "Consul: the instances of {ServiceName} are read again ({Instances} now)", EventName = "ConsulProviderReconnected")]
    public static partial void ProviderReconnected(ILogger logger, string serviceName, int instances);

    [LoggerMessage(131, LogLevel.Debug, "Consul: the passing instances of {ServiceName} changed ({Instances} now); the resolver refreshes", EventName = "ConsulProviderChanged")]
    public static partial void ProviderChanged(ILogger logger, string serviceName, int instances);

    [LoggerMessage(132, LogLevel.Information, "Consul: the index of {ServiceName} went backwards ({Index} to {NewIndex}); reading the whole list again", EventName = "ConsulProviderIndexReset")]
    public static partial void ProviderIndexReset(ILogger logger, string serviceName, ulong index, ulong newIndex);

    [LoggerMessage(133, LogLevel.Debug, "Consul: an instance of {ServiceName} is not resolved ({Reason})", EventName = "ConsulProviderSkippedEntry")]
    public static partial void ProviderSkippedEntry(ILogger logger, string serviceName, string reason);
}
