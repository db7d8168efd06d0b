namespace GracefulLifecycle.Drill;

/// <summary>
/// The consumer-chain drill: replicas registered in Eureka (behind its read-only response cache) or with a Consul
/// agent, called by Spring Cloud-like consumers through their load-balancer cache, rolled under load twice in the
/// same drill: with the delay derived from the whole chain (the replicas declare the consumers' load-balancer cache),
/// then with the old derivation, which had no load-balancer term (<c>LoadBalancerCacheTtl=00:00:00</c>). The first
/// must lose no call; the second shows the calls that missing term lost.
/// </summary>
/// <remarks>
/// The timings are scaled down from Eureka's and Spring Cloud's defaults (30 s cache, 30 s fetch, 35 s load-balancer
/// cache) so a run takes seconds: 1 s, 1 s and 3 s. Both runs keep the adapters' default 1 s propagation margin and a shutdown delay
/// of zero of their own, so the delay each replica serves is the derived one, and the only difference between the
/// two runs is the load-balancer term.
/// </remarks>
internal static class ConsumerChainScenarios
{
    /// <summary>The derived run, then the old derivation's, against the same registry.</summary>
    public static IEnumerable<DrillSettings> Pair(DrillScenario registry, ConsumerChain chain, int rollouts)
    {
        var name = registry.ToString().ToLowerInvariant();
        var derived = new DrillSettings(registry, BalancerMode.None, rollouts)
        {
            Chain = chain with { ServiceName = "drill-derived" },
            ShutdownDelay = TimeSpan.Zero,

            // Room for the derived delay (the worst case plus the margin) and the drain, in both runs alike.
            GracePeriod = chain.WorstCase(registry) + TimeSpan.FromSeconds(20),
            Label = $"{name}/derived",
        };
        yield return derived;
        yield return derived with
        {
            Chain = chain with { ServiceName = "drill-old-derivation", DeclaredLoadBalancerCacheTtl = TimeSpan.Zero },
            Label = $"{name}/old-derivation",
        };
    }

    /// <summary>Tells what the chain holds: how long consumers may call an instance after its deregistration.</summary>
    public static string Describe(DrillScenario registry, ConsumerChain chain)
    {
        var eureka = registry == DrillScenario.Eureka;
        return string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $"[{registry.ToString().ToLowerInvariant()}] consumer chain: up to {chain.WorstCase(registry).TotalSeconds:F1} s of calls after the deregistration "
            + $"(server cache {(eureka ? chain.ServerCache : TimeSpan.Zero).TotalSeconds:F1} s + fetch {(eureka ? chain.FetchInterval : TimeSpan.Zero).TotalSeconds:F1} s "
            + $"+ load-balancer cache {chain.LoadBalancerCacheTtl.TotalSeconds:F1} s; {chain.Clients} consumers)");
    }
}
