using GracefulLifecycle;
using GracefulLifecycle.DependencyInjection;
using GracefulLifecycle.Eureka;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

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
        var services = builder.Services;

        SectionOptions.Add(services, EurekaOptions.SectionName, configure);
        if (services.Any(d => d.ServiceType == typeof(IServiceRegistry) && d.ImplementationType == typeof(EurekaRegistry)))
        {
            return builder;
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EurekaOptions>, EurekaOptionsValidator>());

        // Each call is bounded by EurekaOptions.RequestTimeout on the lifecycle's clock; the client's own 100 s
        // default would only get in the way.
        // Our own log lines cover failures; the handler would log every heartbeat.
        services.AddHttpClient(EurekaRegistry.HttpClientName, static client =>
            {
                client.Timeout = Timeout.InfiniteTimeSpan;

                // Eureka's answers to these calls are empty or small: a larger one is a broken server (failover).
                client.MaxResponseContentBufferSize = 64 * 1024;
            })
            // Redirects are not followed: a registration would go wherever an answer points.
            .ConfigurePrimaryHttpMessageHandler(static () => new SocketsHttpHandler { AllowAutoRedirect = false })
            .RemoveAllLoggers();
        return builder.AddServiceRegistry<EurekaRegistry>();
    }
}
