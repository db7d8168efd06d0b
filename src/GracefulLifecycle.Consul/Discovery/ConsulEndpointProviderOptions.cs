namespace GracefulLifecycle.Consul;

/// <summary>
/// The consumer side of Consul (<see cref="Microsoft.Extensions.DependencyInjection.ConsulServiceEndpointProviderExtensions.AddConsulServiceEndpointProvider"/>):
/// which agent to ask for the passing instances of a service. It binds from the same section as
/// <see cref="ConsulOptions"/> (<c>GracefulLifecycle:Consul</c>), so one configuration serves a service that both
/// registers and calls, and it holds only what a consumer needs: a consumer that registers nothing sets no service name,
/// port or check.
/// </summary>
public sealed class ConsulEndpointProviderOptions
{
    /// <summary>Gets or sets the base address of the Consul agent's HTTP API, as <see cref="ConsulOptions.Address"/>.</summary>
    /// <value>The default value is <c>http://127.0.0.1:8500</c>, the agent running on the same host.</value>
    public string Address { get; set; } = ConsulOptions.DefaultAddress;

    /// <summary>Gets or sets the ACL token sent with every call (<c>X-Consul-Token</c>), as <see cref="ConsulOptions.Token"/>.</summary>
    /// <value>The default value is <see langword="null"/>: no token is sent.</value>
    public string? Token { get; set; }

    /// <summary>
    /// Gets or sets how often the passing instances are read again: zero follows them with blocking queries instead
    /// (<c>?index=</c>, answered as soon as the service changes), so a deregistered or failing instance leaves the
    /// resolver's list at once. The registration side reads the same key (<see cref="ConsulOptions.ConsumerRefreshInterval"/>)
    /// for the consumer part of its shutdown delay.
    /// </summary>
    /// <value>The default value is zero: blocking queries.</value>
    public TimeSpan ConsumerRefreshInterval { get; set; }

    /// <summary>
    /// Gets or sets the timeout of each call to the agent; a blocking query is given its wait (1 minute) on top.
    /// </summary>
    /// <value>The default value is 5 seconds.</value>
    public TimeSpan RequestTimeout { get; set; } = ConsulOptions.DefaultRequestTimeout;
}
