namespace GracefulLifecycle.Drill;

/// <summary>
/// The fixed shutdown delay against the adaptive one (issue 13), each pair run back to back on the same machine:
/// a fast balancer (HAProxy checking every 1 s), a slow one (<c>inter 4s fall 2</c>: out 4-8 s after readiness fails),
/// and client-side discovery through etcd with a consumer that refreshes its list every 5 s. The balancers run in
/// <c>mode http</c>, balancing each request (an ingress, Envoy): there the traffic goes on until the balancer moves.
/// The slow balancer in <c>mode tcp</c> (balancing connections, like kube-proxy) is the known limit: the replica's
/// own <c>Connection: close</c> moves its clients within a few hundred milliseconds, so the silence says nothing about
/// the balancer, which still sends new connections until it takes the replica out.
/// </summary>
internal static class AdaptiveDelayScenarios
{
    /// <summary>
    /// How long the load runs before the first rollout when the adaptive delay is on: longer than the replicas'
    /// traffic window (<c>AdaptiveDelay:TrafficWindow</c>, 30 s), so that what each replica learned of its peer before
    /// leaving is the load alone, as for a service that was serving before its rollout began. With the drill's usual
    /// 2 s, the first replica's window also held the drill's own start (its steady-state requests, then wrk starting),
    /// whose pauses it took for the balancer's and waited twice over: quiet periods of 1.7 s and 6.8 s in the first
    /// replica of a run where every other one had 0.5 s.
    /// </summary>
    private static readonly TimeSpan LoadBeforeAdaptiveRollout = TimeSpan.FromSeconds(32);

    public static IEnumerable<DrillSettings> All(int rollouts)
    {
        // Fast balancer: a fixed 10 s against the adaptive delay with 10 s as its maximum. Both lose nothing; the
        // adaptive one should exit about a quiet period after HAProxy has taken the replica out.
        var fast = new DrillSettings(DrillScenario.SigTerm, BalancerMode.Http, rollouts)
        {
            ShutdownDelay = TimeSpan.FromSeconds(10),
            GracePeriod = TimeSpan.FromSeconds(20),
        };
        yield return fast with { Label = "inter1s/fixed-10s" };
        yield return Adaptive(fast) with { Label = "inter1s/adaptive-max-10s" };

        // Slow balancer: a fixed 3 s stops listening while HAProxy still routes; the adaptive delay waits it out.
        var slow = new DrillSettings(DrillScenario.SigTerm, BalancerMode.Http, rollouts)
        {
            CheckInterval = TimeSpan.FromSeconds(4),
            CheckFall = 2,
            GracePeriod = TimeSpan.FromSeconds(25),
        };
        yield return slow with { Label = "inter4s-fall2/fixed-3s", ShutdownDelay = TimeSpan.FromSeconds(3) };
        yield return Adaptive(slow) with { Label = "inter4s-fall2/adaptive-max-15s", ShutdownDelay = TimeSpan.FromSeconds(15) };

        // The stricter rule for a balancer that checks readiness: it also waits for HAProxy's next check.
        yield return Adaptive(slow) with
        {
            Label = "inter4s-fall2/adaptive-max-15s-check-after-quiet",
            ShutdownDelay = TimeSpan.FromSeconds(15),
            ReadinessCheck = "CheckAfterQuietPeriod",
        };
        yield return Adaptive(slow) with
        {
            Label = "inter4s-fall2-tcp/adaptive-max-15s",
            Mode = BalancerMode.Tcp,
            ShutdownDelay = TimeSpan.FromSeconds(15),
        };

        // Client-side discovery, the consumer refreshing every 5 s. The etcd adapter raises the delay to its
        // propagation delay (refresh + 1 s = 6 s), which stays the adaptive delay's floor; then the consumer declared
        // as refreshing every 1 s (a wrong setting: 2 s of floor) shows the traffic itself holding the delay.
        var etcd = new DrillSettings(DrillScenario.Etcd, BalancerMode.None, rollouts)
        {
            ConsumerRefresh = TimeSpan.FromSeconds(5),
            GracePeriod = TimeSpan.FromSeconds(25),
        };
        yield return etcd with { Label = "etcd-refresh5s/fixed-6s", ShutdownDelay = TimeSpan.FromSeconds(2) };
        yield return Adaptive(etcd) with { Label = "etcd-refresh5s/adaptive-max-15s", ShutdownDelay = TimeSpan.FromSeconds(15) };
        yield return etcd with { Label = "etcd-refresh5s-declared1s/fixed-2s", ShutdownDelay = TimeSpan.FromSeconds(2), DeclaredConsumerRefresh = TimeSpan.FromSeconds(1) };
        yield return Adaptive(etcd) with
        {
            Label = "etcd-refresh5s-declared1s/adaptive-max-15s",
            ShutdownDelay = TimeSpan.FromSeconds(15),
            DeclaredConsumerRefresh = TimeSpan.FromSeconds(1),
        };
    }

    /// <summary>The same drill with the adaptive delay on, after the longer load its replicas learn their peers from.</summary>
    private static DrillSettings Adaptive(DrillSettings settings) =>
        settings with { AdaptiveDelay = true, LoadBeforeRollout = LoadBeforeAdaptiveRollout };
}
