using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.WebhookRegistry;

/// <summary>The webhook registry's log lines, with stable event ids (160-179) and names starting with "Webhook".</summary>
internal static partial class Log
{
    [LoggerMessage(160, LogLevel.Debug, "Webhook answered {Method} {Path} with {StatusCode} in {ElapsedMs} ms", EventName = "WebhookCallCompleted")]
    public static partial void CallCompleted(ILogger logger, string method, string path, int statusCode, long elapsedMs);

    [LoggerMessage(161, LogLevel.Debug, "The webhook does not know instance {InstanceId} any more (404)", EventName = "WebhookInstanceUnknown")]
    public static partial void InstanceUnknown(ILogger logger, string instanceId);

    [LoggerMessage(162, LogLevel.Debug, "Not deregistering from the webhook: nothing was registered", EventName = "WebhookNothingToDeregister")]
    public static partial void NothingToDeregister(ILogger logger);
}
