using GracefulLifecycle.Discovery;
using GracefulLifecycle.Eureka;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds Eureka to the service endpoint resolver (<c>Microsoft.Extensions.ServiceDiscovery</c>).</summary>
public static class EurekaServiceEndpointProviderExtensions
{
    /// <summary>
    /// Resolves <c>http://catalog</c> to the instances of application <c>CATALOG</c> whose status is <c>UP</c>, for
    /// <c>HttpClient</c>'s <c>AddServiceDiscovery()</c>, YARP and <c>ServiceEndpointResolver</c>. The application is
    /// read once, then its changes from <c>apps/delta</c> every <see cref="EurekaEndpointProviderOptions.RegistryFetchIntervalSeconds"/>;
    /// the server's read-only response cache still delays what it shows. While no server can be reached, the last list
    /// is kept. Options bind from the <c>GracefulLifecycle:Eureka</c> configuration section (the registration side's),
    /// which overrides values set in <paramref name="configure"/>. Adds the resolver's core services; the provider is
    /// asked before the pass-through one.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options; may be <see langword="null"/>.</param>
    /// <returns>The service collection, for chaining.</returns>
    public static IServiceCollection AddEurekaServiceEndpointProvider(this IServiceCollection services, Action<EurekaEndpointProviderOptions>? configure = null) =>
        RegistryEndpointProviderServices.Add<EurekaEndpointProviderFactory, EurekaEndpointProviderOptions, EurekaEndpointProviderOptionsValidator>(
            services, EurekaOptions.SectionName, EurekaRegistry.HttpClientName, configure);
}
