using GracefulLifecycle.Hosting;

namespace GracefulLifecycle.TestSupport;

/// <summary>The <see cref="ServiceInstance"/> the lifecycle would hand to registries, for tests that call a registry directly.</summary>
public static class ServiceInstances
{
    /// <summary>Describes the instance as the lifecycle does when registration starts, from the given container.</summary>
    public static ServiceInstance Describe(IServiceProvider services) => new InstanceAddress(services).Describe();

    /// <summary>Registers with <paramref name="registry"/> as the lifecycle would, describing the instance from <paramref name="services"/>.</summary>
    public static Task RegisterAsync(this IServiceRegistry registry, IServiceProvider services, CancellationToken cancellationToken) =>
        registry.RegisterAsync(Describe(services), cancellationToken);
}
