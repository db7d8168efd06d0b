using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Grpc;

/// <summary>Every log line of the gRPC health integration, with stable event ids (200-209).</summary>
internal static partial class Log
{
    [LoggerMessage(200, LogLevel.Information, "gRPC health: the instance is leaving; services set to NOT_SERVING: {Count}", EventName = "GrpcHealthNotServing")]
    public static partial void NotServing(ILogger logger, int count);

    [LoggerMessage(201, LogLevel.Information, "gRPC health: the instance is ready; service '{Service}' is {Status}", EventName = "GrpcHealthReady")]
    public static partial void Ready(ILogger logger, string service, string status);

    [LoggerMessage(202, LogLevel.Warning, "gRPC health: the health checks of service '{Service}' failed when the instance became ready; the periodic publisher will set its status", EventName = "GrpcHealthCheckFailed")]
    public static partial void CheckFailed(ILogger logger, string service, Exception exception);

    [LoggerMessage(203, LogLevel.Warning,
        "gRPC health: service '{Service}' is mapped with an obsolete HealthResult predicate; it cannot include the lifecycle's check and answers Check from the health checks alone. Map it with a HealthCheckMapContext predicate",
        EventName = "GrpcHealthObsoleteMapping")]
    public static partial void ObsoleteMapping(ILogger logger, string service);
}
