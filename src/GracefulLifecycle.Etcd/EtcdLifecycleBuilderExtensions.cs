using GracefulLifecycle;
using GracefulLifecycle.DependencyInjection;
using GracefulLifecycle.Etcd;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds etcd registration to the graceful lifecycle.</summary>
public static class EtcdLifecycleBuilderExtensions
{
    /// <summary>
    /// Registers the instance in etcd under a lease once preload has succeeded, keeps the lease alive, and revokes it
    /// first when leaving. Options bind from <c>GracefulLifecycle:Etcd</c> and override values set in code.
    /// </summary>
    /// <param name="builder">The lifecycle builder.</param>
    /// <param name="configure">Sets the options; may be <see langword="null"/>.</param>
    /// <returns>The builder, for chaining.</returns>
    public static IGracefulLifecycleBuilder AddEtcd(this IGracefulLifecycleBuilder builder, Action<EtcdOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        SectionOptions.Add(services, "GracefulLifecycle:Etcd", configure);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EtcdOptions>, EtcdOptionsValidator>());
        // Our own log lines cover failures; the handler would log every keep-alive.
        services.AddHttpClient(EtcdRegistry.HttpClientName)
            .ConfigureHttpClient((sp, client) => client.Timeout = sp.GetRequiredService<IOptions<EtcdOptions>>().Value.RequestTimeout)
            // Redirects are not followed: the request would go, with its body, to wherever the answer points.
            .ConfigurePrimaryHttpMessageHandler(static () => new SocketsHttpHandler { AllowAutoRedirect = false })
            .RemoveAllLoggers();
        return builder.AddServiceRegistry<EtcdRegistry>();
    }
}
