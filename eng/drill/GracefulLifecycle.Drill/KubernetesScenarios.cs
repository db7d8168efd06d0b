namespace GracefulLifecycle.Drill;

/// <summary>
/// A container restart without deletion (a failed liveness probe, an in-place resize): SIGTERM comes while the
/// endpoint stays in its Service until the kubelet's readiness probe has failed <c>failureThreshold</c> times
/// (kubernetes#131690). HAProxy stands for both: its checks carry the kubelet's User-Agent (<c>kube-probe/1.31</c>),
/// every 1 s, and it takes a replica out at the third failure in a row (<c>fall 3</c>), as the endpoint goes (it
/// balances each request, as an ingress that follows the endpoints does). The
/// shutdown delay (1 s) is shorter than that failover, so replicas without the Kubernetes package stop listening while
/// still routed to; with it, each reads a pod that is not being deleted (the restart case) and serves until the third
/// failed probe, then the delay. The same run, one after the other.
/// </summary>
internal static class KubernetesScenarios
{
    /// <summary>The replicas' settings that point GracefulLifecycle.Kubernetes at a pod.</summary>
    /// <param name="apiServer">The API server's URL (<c>kubectl proxy</c>, or a fake one).</param>
    /// <param name="namespace">The pod's namespace.</param>
    /// <param name="pod">The pod's name: every replica reads the same one.</param>
    /// <param name="tokenPath">A service account token file, if the API server needs one.</param>
    public static Dictionary<string, string> PodSettings(string? apiServer, string? @namespace, string? pod, string? tokenPath = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["GracefulLifecycle__Kubernetes__ApiServer"] = apiServer ?? throw new ArgumentException("--scenario kubernetes needs --api-server: the API server's URL (kubectl proxy)."),
            ["GracefulLifecycle__Kubernetes__Namespace"] = @namespace ?? throw new ArgumentException("--scenario kubernetes needs --namespace."),
            ["GracefulLifecycle__Kubernetes__PodName"] = pod ?? throw new ArgumentException("--scenario kubernetes needs --pod: a pod whose readiness probe is httpGet /ifready, every 1 s, failureThreshold 3."),

            // Every replica reads the one pod, whose probes name a port that is not the replica's: the startup check
            // reports it and goes on.
            ["GracefulLifecycle__Kubernetes__OnMismatch"] = "Warn",
            ["Logging__LogLevel__GracefulLifecycle.Kubernetes"] = "Information",
        };
        if (tokenPath is not null)
        {
            settings["GracefulLifecycle__Kubernetes__TokenPath"] = tokenPath;
        }

        return settings;
    }

    /// <summary>The restart without the package, then with it.</summary>
    public static IEnumerable<DrillSettings> Pair(IReadOnlyDictionary<string, string> podSettings, int rollouts)
    {
        // mode http: every request is balanced, as an ingress following the endpoints does. In tcp mode wrk's kept-alive
        // connections, moved by the replica's Connection: close early in its leave, make no new connection for the
        // balancer to send to the replica once it stopped listening, so the loss would not show.
        var restart = new DrillSettings(DrillScenario.SigTerm, BalancerMode.Http, rollouts)
        {
            CheckInterval = TimeSpan.FromSeconds(1),
            CheckFall = 3,
            CheckUserAgent = "kube-probe/1.31",
            ShutdownDelay = TimeSpan.FromSeconds(1),
            DrainTimeout = TimeSpan.FromSeconds(5),
            GracePeriod = TimeSpan.FromSeconds(30),
        };
        yield return restart with { Label = "restart/without-kubernetes" };
        yield return restart with { Label = "restart/with-kubernetes", ReplicaSettings = podSettings };
    }
}
