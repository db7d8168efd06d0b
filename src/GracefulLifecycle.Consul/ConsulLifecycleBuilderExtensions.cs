using GracefulLifecycle;
using GracefulLifecycle.Consul;
using GracefulLifecycle.Transport;
using Microsoft.Extensions.Configuration;
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
    /// delay is raised to <see cref="ConsulOptions.ConsumerRefreshInterval"/> plus <see cref="ConsulOptions.PropagationMargin"/> when that is longer.
    /// Calling it again adds nothing but the new configure delegate.
    /// </summary>
    /// <param name="builder">The lifecycle builder.</param>
    /// <param name="configure">Sets the options; may be <see langword="null"/>.</param>
    /// <returns>The builder, for chaining.</returns>
    public static IGracefulLifecycleBuilder AddConsul(this IGracefulLifecycleBuilder builder, Action<ConsulOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!AdapterServices.TryAdd<ConsulRegistry, ConsulOptions, ConsulOptionsValidator>(builder, ConsulOptions.SectionName, configure))
        {
            return builder;
        }

        builder.Services.AddSingleton<IValidateOptions<ConsulOptions>>(sp => new ConsulRenamedKeys(sp.GetService<IConfiguration>()));
        AdapterServices.AddHttpClient(builder.Services, ConsulRegistry.HttpClientName);
        return builder.AddServiceRegistry<ConsulRegistry>();
    }
}
