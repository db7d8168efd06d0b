using GracefulLifecycle;
using GracefulLifecycle.Etcd;
using GracefulLifecycle.Transport;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds etcd registration to the graceful lifecycle.</summary>
public static class EtcdLifecycleBuilderExtensions
{
    /// <summary>
    /// Registers the instance in etcd under a lease once preload has succeeded, keeps the lease alive, and revokes it
    /// first when leaving. Options bind from the <c>GracefulLifecycle:Etcd</c> configuration section, which overrides
    /// values set in <paramref name="configure"/>. Calls go through the named <see cref="HttpClient"/>
    /// <c>GracefulLifecycle.Etcd</c>, which can be configured further (TLS, proxies). Calling it again adds nothing but
    /// the new configure delegate.
    /// </summary>
    /// <param name="builder">The lifecycle builder.</param>
    /// <param name="configure">Sets the options; may be <see langword="null"/>.</param>
    /// <returns>The builder, for chaining.</returns>
    public static IGracefulLifecycleBuilder AddEtcd(this IGracefulLifecycleBuilder builder, Action<EtcdOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!AdapterServices.TryAdd<EtcdRegistry, EtcdOptions, EtcdOptionsValidator>(builder, EtcdOptions.SectionName, configure))
        {
            return builder;
        }

        AdapterServices.AddHttpClient(builder.Services, EtcdRegistry.HttpClientName);
        return builder.AddServiceRegistry<EtcdRegistry>();
    }
}
