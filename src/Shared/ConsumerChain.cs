namespace GracefulLifecycle.Transport;

/// <summary>
/// The propagation chain of a registry that keeps no cache of its own (Consul, etcd): the consumers' refresh + their
/// load balancer's cache + the margin. Each term names its option, and a term the consumer profile chose (the option
/// not set) names the profile too, so the operator sees which setting to change.
/// </summary>
internal static class ConsumerChain
{
    /// <summary>Builds the chain from options in <paramref name="sectionName"/> named as every adapter names them.</summary>
    public static PropagationDelay Create(
        string sectionName,
        Enum consumerProfile,
        (TimeSpan Value, bool IsSet) consumerRefreshInterval,
        (TimeSpan Value, bool IsSet) loadBalancerCacheTtl,
        TimeSpan propagationMargin)
    {
        var prefix = sectionName + ":";
        return new PropagationDelay(
        [
            new(PropagationStage.ConsumerRefresh, consumerRefreshInterval.Value, Source("ConsumerRefreshInterval", consumerRefreshInterval.IsSet)),
            new(PropagationStage.LoadBalancerCache, loadBalancerCacheTtl.Value, Source("LoadBalancerCacheTtl", loadBalancerCacheTtl.IsSet)),
            new(PropagationStage.Margin, propagationMargin, prefix + "PropagationMargin"),
        ]);

        string Source(string option, bool set) =>
            set ? prefix + option : $"{prefix}{option}, set by {prefix}ConsumerProfile {consumerProfile}";
    }
}
