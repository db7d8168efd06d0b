namespace GracefulLifecycle.Etcd;

/// <summary>
/// The slowest kind of consumer that finds the instance through etcd, which sets the consumer terms of the propagation
/// delay that are not set explicitly (<see cref="EtcdOptions.ConsumerRefreshInterval"/>,
/// <see cref="EtcdOptions.LoadBalancerCacheTtl"/>). etcd has no standard consumer: the figures are assumptions, stated as such.
/// </summary>
public enum EtcdConsumerProfile
{
    /// <summary>
    /// Consumers that read the service keys with a range query every 2 seconds and pick from what they read, with no
    /// load-balancer cache over it. The interval is an assumption (no common client sets one): declare yours with
    /// <see cref="EtcdOptions.ConsumerRefreshInterval"/>. It also covers consumers that watch.
    /// </summary>
    Polling = 0,

    /// <summary>
    /// Consumers that watch the service prefix and drop an instance at the delete event, such as etcd's gRPC naming
    /// resolver (<c>go.etcd.io/etcd/client/v3/naming/resolver</c>): no consumer term.
    /// </summary>
    Watch = 1,
}
