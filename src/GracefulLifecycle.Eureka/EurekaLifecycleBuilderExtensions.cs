using GracefulLifecycle;
using GracefulLifecycle.Eureka;
using GracefulLifecycle.Transport;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds Eureka registration to the graceful lifecycle.</summary>
public static class EurekaLifecycleBuilderExtensions
{
    /// <summary>
    /// Registers the instance with Eureka once preload has succeeded, sends heartbeats while it runs, and cancels the
    /// registration first when it starts leaving; readiness waits for consumers to see the instance and the shutdown
    /// delay is raised to the time they take to forget it. Options bind from the <c>GracefulLifecycle:Eureka</c>
    /// configuration section, which overrides values set in <paramref name="configure"/>. Calling it again adds
    /// nothing but the new configure delegate.
    /// </summary>
    /// <param name="builder">The lifecycle builder returned by <c>AddGracefulLifecycle</c>.</param>
    /// <param name="configure">Sets the options in code; may be <see langword="null"/>.</param>
    /// <returns>The builder, for chaining.</returns>
    public static IGracefulLifecycleBuilder AddEureka(this IGracefulLifecycleBuilder builder, Action<EurekaOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!AdapterServices.TryAdd<EurekaRegistry, EurekaOptions, EurekaOptionsValidator>(builder, EurekaOptions.SectionName, configure))
        {
            return builder;
        }

        AdapterServices.AddHttpClient(builder.Services, EurekaRegistry.HttpClientName);
        return builder.AddServiceRegistry<EurekaRegistry>();
    }
}
