using GracefulLifecycle.Discovery;
using GracefulLifecycle.Etcd;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds etcd to the service endpoint resolver (<c>Microsoft.Extensions.ServiceDiscovery</c>).</summary>
public static class EtcdServiceEndpointProviderExtensions
{
    /// <summary>
    /// Resolves <c>http://catalog</c> to the instances registered in etcd under <c>{KeyPrefix}/catalog/</c> (by this
    /// library's <c>AddEtcd()</c> on the other end), for <c>HttpClient</c>'s <c>AddServiceDiscovery()</c>, YARP and
    /// <c>ServiceEndpointResolver</c>. The prefix is watched, so a revoked instance leaves the list at once; while
    /// etcd cannot be reached, the last list is kept. Options bind from the <c>GracefulLifecycle:Etcd</c>
    /// configuration section (the registration side's), which overrides values set in <paramref name="configure"/>.
    /// Adds the resolver's core services; the provider is asked before the pass-through one.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options; may be <see langword="null"/>.</param>
    /// <returns>The service collection, for chaining.</returns>
    public static IServiceCollection AddEtcdServiceEndpointProvider(this IServiceCollection services, Action<EtcdEndpointProviderOptions>? configure = null) =>
        RegistryEndpointProviderServices.Add<EtcdEndpointProviderFactory, EtcdEndpointProviderOptions, EtcdEndpointProviderOptionsValidator>(
            services, EtcdOptions.SectionName, EtcdRegistry.HttpClientName, configure);
}
