using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Kubernetes;

/// <summary>The pod read at shutdown and what it made of the shutdown: event ids 330-339.</summary>
internal static partial class Log
{
    [LoggerMessage(330, LogLevel.Information, "Kubernetes: pod {Pod} is being deleted with a grace period of {GracePeriodSeconds} s (deletionTimestamp {DeletionTimestamp:O}): the shutdown must end by {Deadline:O}", EventName = "KubernetesPodDeleted")]
    public static partial void PodDeleted(ILogger logger, string pod, long gracePeriodSeconds, DateTimeOffset deletionTimestamp, DateTimeOffset deadline);

    [LoggerMessage(331, LogLevel.Information, "Kubernetes: pod {Pod} is not being deleted: a container restart (failed liveness probe, resize). Its endpoint stays ready until the kubelet's readiness probe has failed {FailureThreshold} times (every {PeriodSeconds} s), so the delay waits for that first; the grace period is {GracePeriodSeconds} s", EventName = "KubernetesContainerRestart")]
    public static partial void ContainerRestart(ILogger logger, string pod, int failureThreshold, int periodSeconds, long gracePeriodSeconds);

    [LoggerMessage(332, LogLevel.Warning, "Kubernetes: pod {Pod} is not being deleted, and its readiness probe ({Probe}) is not an HTTP GET on {ReadinessPath}: its failures cannot be counted here, so the delay waits for {Wait} (periodSeconds x failureThreshold + timeoutSeconds) instead", EventName = "KubernetesReadinessNotCounted")]
    public static partial void ReadinessNotCounted(ILogger logger, string pod, string probe, string readinessPath, TimeSpan wait);

    [LoggerMessage(333, LogLevel.Information, "Kubernetes: pod {Pod} is not being deleted and container {Container} has no readiness probe: its endpoint goes when the container stops; the shutdown goes on as planned", EventName = "KubernetesNoReadinessProbe")]
    public static partial void NoReadinessProbe(ILogger logger, string pod, string container);

    [LoggerMessage(334, LogLevel.Warning, "Kubernetes: pod {Pod} has no container to read the probes of ({Reason}); set GracefulLifecycle:Kubernetes:ContainerName. The shutdown goes on as planned", EventName = "KubernetesContainerNotFound")]
    public static partial void ContainerNotFound(ILogger logger, string pod, string reason);
}
