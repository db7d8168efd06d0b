namespace GracefulLifecycle.Etcd;

/// <summary>
/// The consumer side of etcd (<see cref="Microsoft.Extensions.DependencyInjection.EtcdServiceEndpointProviderExtensions.AddEtcdServiceEndpointProvider"/>):
/// where to read the instances of a service. It binds from the same section as <see cref="EtcdOptions"/>
/// (<c>GracefulLifecycle:Etcd</c>), so one configuration serves a service that both registers and calls, and it holds
/// only what a consumer needs: a consumer that registers nothing sets no service name, port or lease.
/// </summary>
public sealed class EtcdEndpointProviderOptions
{
    /// <summary>Gets or sets the etcd client URLs, comma-separated, as <see cref="EtcdOptions.Endpoints"/>.</summary>
    /// <value>The default value is <c>http://127.0.0.1:2379</c>.</value>
    public string Endpoints { get; set; } = "http://127.0.0.1:2379";

    /// <summary>
    /// Gets or sets the prefix of the service keys, as <see cref="EtcdOptions.KeyPrefix"/>: the instances of
    /// <c>http://catalog</c> are the keys under <c>{KeyPrefix}/catalog/</c>.
    /// </summary>
    /// <value>The default value is <c>/services</c>.</value>
    public string KeyPrefix { get; set; } = "/services";

    /// <summary>
    /// Gets or sets how often the keys are read again: zero watches the prefix instead, so a deleted key leaves the
    /// resolver's list at once. The registration side reads the same key (<see cref="EtcdOptions.ConsumerRefreshInterval"/>)
    /// for the consumer part of its shutdown delay.
    /// </summary>
    /// <value>The default value is zero: watch.</value>
    public TimeSpan ConsumerRefreshInterval { get; set; }

    /// <summary>Gets or sets the timeout of each range call to one etcd endpoint, and of opening a watch.</summary>
    /// <value>The default value is 5 seconds.</value>
    public TimeSpan RequestTimeout { get; set; } = EtcdOptions.DefaultRequestTimeout;
}
