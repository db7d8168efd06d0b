using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle;

/// <summary>Chains add-ons (preload tasks, registries) onto <c>AddGracefulLifecycle</c>.</summary>
public interface IGracefulLifecycleBuilder
{
    /// <summary>Gets the service collection the lifecycle is registered in.</summary>
    IServiceCollection Services { get; }
}
