using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Kubernetes;

/// <summary>
/// Every log line of the Kubernetes package, with stable event ids (300-329) and names starting with "Kubernetes". A
/// pod that cannot be read is reported once, as one warning naming what to grant or set; the lifecycle then runs as
/// without the package.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(300, LogLevel.Debug, "Kubernetes: read pod {Pod} from {ApiServer} in {ElapsedMs} ms (being deleted: {Deleted})", EventName = "KubernetesPodRead")]
    public static partial void PodRead(ILogger logger, string pod, Uri apiServer, long elapsedMs, bool deleted);

    [LoggerMessage(301, LogLevel.Information, "Kubernetes: not reading the pod, unknown: {Missing}. The lifecycle runs as without GracefulLifecycle.Kubernetes", EventName = "KubernetesNotInCluster")]
    public static partial void NotInCluster(ILogger logger, string missing);

    [LoggerMessage(302, LogLevel.Warning, "Kubernetes: cannot read pod {Pod}: no service account token at {TokenPath} (automountServiceAccountToken: false?). Mount the token, or the lifecycle runs as without GracefulLifecycle.Kubernetes", EventName = "KubernetesNoToken")]
    public static partial void NoToken(ILogger logger, string pod, string tokenPath);

    [LoggerMessage(303, LogLevel.Warning, "Kubernetes: the API refused to read pod {Pod} ({Status}). The pod's service account needs permission to get its own pod: a Role in namespace {Namespace} with apiGroups [\"\"], resources [\"pods\"], verbs [\"get\"], and a RoleBinding to the service account (docs/kubernetes.md). Until then the lifecycle runs as without GracefulLifecycle.Kubernetes", EventName = "KubernetesForbidden")]
    public static partial void Forbidden(ILogger logger, string pod, string status, string @namespace);

    [LoggerMessage(304, LogLevel.Warning, "Kubernetes: the API refused the token to read pod {Pod} ({Status}): the token at {TokenPath} is not a valid service account token (expired, or from another cluster). The lifecycle runs as without GracefulLifecycle.Kubernetes", EventName = "KubernetesUnauthorized")]
    public static partial void Unauthorized(ILogger logger, string pod, string status, string tokenPath);

    [LoggerMessage(305, LogLevel.Warning, "Kubernetes: pod {Pod} not found ({Status}): set POD_NAME from the downward API (env valueFrom fieldRef metadata.name) or GracefulLifecycle:Kubernetes:PodName when the spec sets a hostname. The lifecycle runs as without GracefulLifecycle.Kubernetes", EventName = "KubernetesPodNotFound")]
    public static partial void PodNotFound(ILogger logger, string pod, string status);

    [LoggerMessage(306, LogLevel.Warning, "Kubernetes: cannot reach the API at {ApiServer} to read pod {Pod} ({Reason}): a NetworkPolicy may block egress to the API server. The lifecycle runs as without GracefulLifecycle.Kubernetes", EventName = "KubernetesUnreachable")]
    public static partial void Unreachable(ILogger logger, string pod, Uri apiServer, string reason);

    [LoggerMessage(307, LogLevel.Warning, "Kubernetes: unexpected answer from {ApiServer} for pod {Pod} ({Status}). The lifecycle runs as without GracefulLifecycle.Kubernetes", EventName = "KubernetesUnexpectedAnswer")]
    public static partial void UnexpectedAnswer(ILogger logger, string pod, Uri apiServer, string status);

    [LoggerMessage(310, LogLevel.Information, "Kubernetes: pod {Pod} agrees with the options (container {Container}: probes, preStop hook; grace period {GracePeriodSeconds} s)", EventName = "KubernetesSpecMatches")]
    public static partial void SpecMatches(ILogger logger, string pod, string container, long gracePeriodSeconds);

    [LoggerMessage(311, LogLevel.Warning, "Kubernetes: pod {Pod}: {Mismatch} (starting anyway: GracefulLifecycle:Kubernetes:OnMismatch is Warn)", EventName = "KubernetesSpecMismatch")]
    public static partial void SpecMismatch(ILogger logger, string pod, string mismatch);

    [LoggerMessage(312, LogLevel.Warning, "Kubernetes: pod {Pod}: {Advice}", EventName = "KubernetesSpecAdvice")]
    public static partial void SpecAdvice(ILogger logger, string pod, string advice);
}
