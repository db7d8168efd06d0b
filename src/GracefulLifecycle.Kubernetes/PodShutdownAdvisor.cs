using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Kubernetes;

/// <summary>
/// Reads the pod once as the shutdown starts and tells the lifecycle which of Kubernetes' two cases this is.
/// <list type="bullet">
/// <item>Deleted (<c>metadata.deletionTimestamp</c> set): the endpoint is already leaving the EndpointSlices; the
/// process will be killed at the deadline below, which may be shorter than the spec's grace period (<c>kubectl delete
/// --grace-period</c>, an eviction, a node drain or shutdown). The lifecycle fits its plan into it.</item>
/// <item>Not deleted (a container restart after a failed liveness probe, an in-place resize): the endpoint stays
/// ready until the kubelet's readiness probe has failed <c>failureThreshold</c> times in a row, so the delay is held
/// until the kubelet has had that many failed answers, then served as planned (the propagation allowance), all
/// within the grace period.</item>
/// </list>
/// A pod that cannot be read gives no advice: the shutdown is the one the lifecycle runs without the package.
/// </summary>
internal sealed class PodShutdownAdvisor(
    PodReader reader,
    PodSnapshot startup,
    KubeletProbes probes,
    IOptions<KubernetesOptions> options,
    IOptions<GracefulLifecycleOptions> lifecycleOptions,
    TimeProvider time,
    ILogger<PodShutdownAdvisor> logger) : IShutdownAdvisor
{
    /// <summary>
    /// The shortest delay a shortened deadline leaves. The endpoint is removed at the deletion, before SIGTERM; what
    /// routes by it learns it at its next sync: kube-proxy after at most its <c>--iptables-min-sync-period</c> (1 s by
    /// default, pkg/proxy/apis/config/v1alpha1/defaults.go), ingress-nginx after its reload (at most 1 s,
    /// ingress-nginx#3335). New connections sent before then would be refused, so the delay keeps 2 s.
    /// </summary>
    internal static readonly TimeSpan MinimumDelay = TimeSpan.FromSeconds(2);

    private readonly KubernetesOptions _options = options.Value;
    private readonly GracefulLifecycleOptions _lifecycle = lifecycleOptions.Value;

    public async Task<ShutdownAdvice?> AdviseAsync(ShutdownAdviceContext context, CancellationToken cancellationToken)
    {
        // Taken before the read (readiness has failed since leaving): the probes answered during the read count too.
        var since = probes.Snapshot();
        var read = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        if (read.Pod is not { } pod)
        {
            // Reported once by the reader: the lifecycle goes on as without the package.
            return null;
        }

        if (pod.DeletionTimestamp is { } deletionTimestamp)
        {
            return Deleted(pod, deletionTimestamp, context);
        }

        return Restarted(pod, context, since);
    }

    /// <summary>
    /// The deadline of a deletion. kube-apiserver sets <c>deletionTimestamp</c> to the time of the delete request plus
    /// the grace period, and moves it earlier when a later delete shortens the grace
    /// (staging/src/k8s.io/apiserver/pkg/registry/rest/delete.go, BeforeDelete). The kubelet counts
    /// <c>deletionGracePeriodSeconds</c> from the start of the preStop hook, which comes after the request
    /// (pkg/kubelet/kuberuntime/kuberuntime_container.go, killContainer and setTerminationGracePeriod): the kill comes
    /// no earlier than <c>deletionTimestamp</c>. The earlier of the two is taken: <c>deletionTimestamp</c> is read on
    /// the API server's clock, the termination start on this node's, and either may be the one that errs.
    /// </summary>
    private ShutdownAdvice Deleted(KubernetesPod pod, DateTimeOffset deletionTimestamp, ShutdownAdviceContext context)
    {
        var grace = pod.DeletionGracePeriodSeconds ?? pod.GracePeriodSeconds;
        var byNode = context.TerminationStartedAt + TimeSpan.FromSeconds(grace);
        var deadline = deletionTimestamp < byNode ? deletionTimestamp : byNode;
        Log.PodDeleted(logger, pod.Name, grace, deletionTimestamp, deadline);
        return new ShutdownAdvice($"Kubernetes: pod deleted with a grace period of {grace} s (spec {pod.GracePeriodSeconds} s)")
        {
            Deadline = deadline,
            MinimumDelay = MinimumDelay,
        };
    }

    private ShutdownAdvice? Restarted(KubernetesPod pod, ShutdownAdviceContext context, IReadOnlyDictionary<string, long> since)
    {
        if (Container(pod, out var reason) is not { } container)
        {
            Log.ContainerNotFound(logger, pod.Name, reason);
            return null;
        }

        // Without deletion the kubelet kills after the spec's grace period (a liveness probe's own
        // terminationGracePeriodSeconds is not read: see docs/limits.md).
        var grace = pod.GracePeriodSeconds;
        var deadline = context.TerminationStartedAt + TimeSpan.FromSeconds(grace);
        var @case = $"Kubernetes: container restart, pod not deleted (grace period {grace} s)";
        if (container.ReadinessProbe is not { } readiness)
        {
            Log.NoReadinessProbe(logger, pod.Name, container.Name);
            return new ShutdownAdvice(@case + ", no readiness probe") { Deadline = deadline, MinimumDelay = MinimumDelay };
        }

        Log.ContainerRestart(logger, pod.Name, readiness.FailureThreshold, readiness.PeriodSeconds, grace);
        Task hold;
        string holdReason;
        if (readiness.Handler.HttpGet is { } get && string.Equals(get.Path, _lifecycle.ReadinessPath, StringComparison.OrdinalIgnoreCase))
        {
            hold = probes.WhenFailedAsync(get.Path, readiness.FailureThreshold, since);
            holdReason = $"the kubelet's failed readiness probe {readiness.FailureThreshold} of {readiness.FailureThreshold} (kube-probe on {get.Path}, every {readiness.PeriodSeconds} s)";
        }
        else
        {
            // Not countable here (exec, gRPC, another path): the time the kubelet takes at most, from leaving.
            var wait = TimeSpan.FromSeconds((readiness.PeriodSeconds * (long)readiness.FailureThreshold) + readiness.TimeoutSeconds);
            var probe = readiness.Handler.HttpGet is { } other ? $"httpGet {other.Path}" : readiness.Handler.Grpc ? "grpc" : readiness.Handler.ExecCommand is not null ? "exec" : "tcpSocket";
            Log.ReadinessNotCounted(logger, pod.Name, probe, _lifecycle.ReadinessPath, wait);
            var left = context.LeavingAt + wait - time.GetUtcNow();
            hold = left > TimeSpan.Zero ? Task.Delay(left, time) : Task.CompletedTask;
            holdReason = $"{wait.TotalSeconds} s, the time the kubelet's readiness probe ({probe}) takes to fail {readiness.FailureThreshold} times";
        }

        return new ShutdownAdvice(@case)
        {
            Deadline = deadline,
            MinimumDelay = MinimumDelay,
            HoldUntil = hold,
            HoldReason = holdReason,
        };
    }

    /// <summary>
    /// This application's container: the one the startup check found (by name), else the one named in the options,
    /// the only one, or the one probed on the readiness path.
    /// </summary>
    private PodContainer? Container(KubernetesPod pod, out string reason)
    {
        reason = string.Empty;
        if ((startup.Container?.Name ?? _options.ContainerName) is { } name)
        {
            reason = $"no container named {name}";
            return pod.Containers.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.Ordinal));
        }

        if (pod.Containers.Count == 1)
        {
            return pod.Containers[0];
        }

        var probed = pod.Containers
            .Where(c => c.ReadinessProbe?.Handler.HttpGet is { } get && string.Equals(get.Path, _lifecycle.ReadinessPath, StringComparison.OrdinalIgnoreCase))
            .ToArray();
        reason = $"{pod.Containers.Count} containers, {probed.Length} with a readiness probe on {_lifecycle.ReadinessPath}";
        return probed.Length == 1 ? probed[0] : null;
    }
}
