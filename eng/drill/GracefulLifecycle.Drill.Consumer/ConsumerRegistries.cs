namespace GracefulLifecycle.Drill.Consumer;

/// <summary>The endpoint provider of the registry whose section is configured, the same section the replicas register with.</summary>
internal static class ConsumerRegistries
{
    public static void AddEndpointProvider(IServiceCollection services, IConfiguration configuration)
    {
        if (configuration.GetSection("GracefulLifecycle:Etcd").Exists())
        {
            services.AddEtcdServiceEndpointProvider();
        }
        else if (configuration.GetSection("GracefulLifecycle:Consul").Exists())
        {
            services.AddConsulServiceEndpointProvider();
        }
        else
        {
            throw new InvalidOperationException("The resolver consumer needs GracefulLifecycle:Etcd:Endpoints or GracefulLifecycle:Consul:Address.");
        }
    }
}
