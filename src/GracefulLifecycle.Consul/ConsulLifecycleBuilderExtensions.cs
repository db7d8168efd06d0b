using GracefulLifecycle;
using GracefulLifecycle.Consul;
using GracefulLifecycle.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds Consul registration to the graceful lifecycle.</summary>
public static class ConsulLifecycleBuilderExtensions
{
    /// <summary>
    /// Registers the instance with the local Consul agent once preload has succeeded, with an HTTP check on the
    /// readiness endpoint, and deregisters it first when shutdown starts. Options bind from the
    /// <c>GracefulLifecycle:Consul</c> configuration section, whose values override those set in
    /// <paramref name="configure"/>. Calls go through the named <see cref="HttpClient"/> <c>GracefulLifecycle.Consul</c>,
    /// which can be configured further (TLS, proxies) with <c>AddHttpClient("GracefulLifecycle.Consul")</c>. The shutdown
    /// delay is raised to <see cref="ConsulOptions.ConsumerRefreshInterval"/> plus one second when that is longer.
    /// Calling it again adds nothing but the new configure delegate.
    /// </summary>
    /// <param name="builder">The lifecycle builder.</param>
    /// <param name="configure">Sets the options; may be <see langword="null"/>.</param>
    /// <returns>The builder, for chaining.</returns>
    public static IGracefulLifecycleBuilder AddConsul(this IGracefulLifecycleBuilder builder, Action<ConsulOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;

        SectionOptions.Add(services, ConsulOptions.SectionName, configure);
        if (services.Any(d => d.ServiceType == typeof(IServiceRegistry) && d.ImplementationType == typeof(ConsulRegistry)))
        {
            return builder;
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ConsulOptions>, ConsulOptionsValidator>());

        // Every call is bounded by ConsulOptions.RequestTimeout on the injected TimeProvider instead.
        // Our own log lines cover failures; the handler would log every renewal.
        services.AddHttpClient(ConsulRegistry.HttpClientName).ConfigureHttpClient(client =>
            {
                client.Timeout = Timeout.InfiniteTimeSpan;

                // The agent's answers to these calls are small: a larger one is not read whole.
                client.MaxResponseContentBufferSize = 64 * 1024;
            })
            // Redirects are not followed: the ACL token header would go to wherever an answer points.
            .ConfigurePrimaryHttpMessageHandler(static () => new SocketsHttpHandler { AllowAutoRedirect = false })
            .RemoveAllLoggers();
        return builder.AddServiceRegistry<ConsulRegistry>();
    }
}
