using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.DependencyInjection;

internal sealed class GracefulLifecycleBuilder(IServiceCollection services) : IGracefulLifecycleBuilder
{
    public IServiceCollection Services { get; } = services;
}
