namespace GracefulLifecycle.Gateway;

/// <summary>
/// Picks the endpoint provider of the registry whose section is configured, the same section the registering side
/// reads (<c>GracefulLifecycle:Etcd</c>, <c>GracefulLifecycle:Consul</c> or <c>GracefulLifecycle:Eureka</c>), so one
/// configuration serves the instances and the gateway that calls them.
/// </summary>
internal static class GatewayRegistries
{
    public static void AddEndpointProvider(IServiceCollection services, IConfiguration configuration)
    {
        // Only the core of the resolver and the registry's provider: no pass-through provider, which would route to a
        // DNS name "catalog" whenever the registry lists no instance.
        services.AddServiceDiscoveryCore();
        if (configuration.GetSection("GracefulLifecycle:Etcd").Exists())
        {
            services.AddEtcdServiceEndpointProvider();
        }
        else if (configuration.GetSection("GracefulLifecycle:Consul").Exists())
        {
            services.AddConsulServiceEndpointProvider();
        }
        else if (configuration.GetSection("GracefulLifecycle:Eureka").Exists())
        {
            services.AddEurekaServiceEndpointProvider();
        }
        else
        {
            // No registry: destinations from configuration (Services:catalog:http:0=http://127.0.0.1:5001), as in Aspire.
            services.AddConfigurationServiceEndpointProvider();
        }
    }
}
