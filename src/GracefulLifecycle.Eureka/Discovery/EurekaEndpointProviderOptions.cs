namespace GracefulLifecycle.Eureka;

/// <summary>
/// The consumer side of Eureka (<see cref="Microsoft.Extensions.DependencyInjection.EurekaServiceEndpointProviderExtensions.AddEurekaServiceEndpointProvider"/>):
/// which servers to ask for the instances of an application and how often. It binds from the same section as
/// <see cref="EurekaOptions"/> (<c>GracefulLifecycle:Eureka</c>), so one configuration serves a service that both
/// registers and calls, and it holds only what a consumer needs: a consumer that registers nothing sets no
/// application name, host or port.
/// </summary>
public sealed class EurekaEndpointProviderOptions
{
    /// <summary>
    /// Gets or sets the Eureka server URLs, comma-separated, as <see cref="EurekaOptions.ServiceUrl"/> (credentials in
    /// the URL are sent as basic authentication to that server only).
    /// </summary>
    /// <value>The default value is empty, which fails validation.</value>
    public string ServiceUrl { get; set; } = string.Empty;

    /// <summary>
    /// Gets or sets how often the changes are read (<c>GET apps/delta</c>), in whole seconds: Eureka's own name for the
    /// consumer refresh interval (<c>eureka.client.registryFetchIntervalSeconds</c>). The registration side reads the
    /// same key (<see cref="EurekaOptions.RegistryFetchIntervalSeconds"/>) for the consumer part of its shutdown delay.
    /// Eureka cannot push: the server's read-only response cache (<see cref="EurekaOptions.ResponseCacheUpdateIntervalMs"/>,
    /// 30 s by default) stays the floor of how stale the list may be.
    /// </summary>
    /// <value>The default value is 5 seconds (Eureka's own client polls every 30).</value>
    public int RegistryFetchIntervalSeconds { get; set; } = DefaultRegistryFetchIntervalSeconds;

    /// <summary>Gets or sets the timeout of each HTTP call to one Eureka server; the next server is tried when it passes.</summary>
    /// <value>The default value is 5 seconds.</value>
    public TimeSpan RequestTimeout { get; set; } = EurekaOptions.DefaultRequestTimeout;

    internal const int DefaultRegistryFetchIntervalSeconds = 5;
}
