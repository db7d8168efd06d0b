using GracefulLifecycle.Consul;
using GracefulLifecycle.Discovery;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds Consul to the service endpoint resolver (<c>Microsoft.Extensions.ServiceDiscovery</c>).</summary>
public static class ConsulServiceEndpointProviderExtensions
{
    /// <summary>
    /// Resolves <c>http://catalog</c> to the instances of service <c>catalog</c> whose checks all pass
    /// (<c>/v1/health/service/catalog?passing</c> on the agent), for <c>HttpClient</c>'s <c>AddServiceDiscovery()</c>,
    /// YARP and <c>ServiceEndpointResolver</c>. The list is followed with blocking queries, so an instance that
    /// deregisters or fails its check leaves it at once; while the agent cannot be reached, the last list is kept.
    /// Options bind from the <c>GracefulLifecycle:Consul</c> configuration section (the registration side's), which
    /// overrides values set in <paramref name="configure"/>. Adds the resolver's core services; the provider is asked
    /// before the pass-through one.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options; may be <see langword="null"/>.</param>
    /// <returns>The service collection, for chaining.</returns>
    public static IServiceCollection AddConsulServiceEndpointProvider(this IServiceCollection services, Action<ConsulEndpointProviderOptions>? configure = null) =>
        RegistryEndpointProviderServices.Add<ConsulEndpointProviderFactory, ConsulEndpointProviderOptions, ConsulEndpointProviderOptionsValidator>(
            services, ConsulOptions.SectionName, ConsulRegistry.HttpClientName, configure);
}
