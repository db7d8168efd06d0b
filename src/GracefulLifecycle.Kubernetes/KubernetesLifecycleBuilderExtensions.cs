using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using GracefulLifecycle;
using GracefulLifecycle.Kubernetes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the Kubernetes pod checks to the graceful lifecycle.</summary>
public static class KubernetesLifecycleBuilderExtensions
{
    /// <summary>
    /// Reads this instance's own pod from the Kubernetes API at startup and fails the start (exit code 1) when the pod
    /// spec contradicts the lifecycle in a way that loses requests: a grace period shorter than the shutdown budget,
    /// probes on other paths or ports, a readiness failover longer than the grace period allows, a preStop hook the
    /// options do not count. In a pod nothing needs configuring; options bind from the <c>GracefulLifecycle:Kubernetes</c>
    /// configuration section, which overrides values set in <paramref name="configure"/>. The service account needs
    /// <c>get</c> on its pod; without it (or outside a cluster) one warning says so and the lifecycle runs as without
    /// the package. Calls go through the named <see cref="HttpClient"/> <c>GracefulLifecycle.Kubernetes</c>. Calling
    /// it again adds nothing but the new configure delegate.
    /// </summary>
    /// <param name="builder">The lifecycle builder.</param>
    /// <param name="configure">Sets the options; may be <see langword="null"/>.</param>
    /// <returns>The builder, for chaining.</returns>
    public static IGracefulLifecycleBuilder AddKubernetes(this IGracefulLifecycleBuilder builder, Action<KubernetesOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        builder.AddSectionOptions(KubernetesOptions.SectionName, configure);
        if (services.Any(d => d.ServiceType == typeof(PodReader)))
        {
            return builder;
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KubernetesOptions>, KubernetesOptionsValidator>());
        services.TryAddSingleton(KubernetesEnvironment.Process);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<PodReader>();
        services.AddSingleton<PodSnapshot>();

        // Ahead of the lifecycle's own hosted service: a failed check must end the start while an invalid option still
        // exits with code 1, and before preload starts.
        var check = ServiceDescriptor.Singleton<IHostedService, KubernetesStartupCheck>();
        var lifecycleAssembly = typeof(IGracefulLifecycle).Assembly;
        var first = services.ToList().FindIndex(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType?.Assembly == lifecycleAssembly);
        if (first < 0)
        {
            services.Add(check);
        }
        else
        {
            services.Insert(first, check);
        }

        // At shutdown the pod is read once more: deleted, the plan fits its deadline; restarted, the delay waits for
        // the kubelet's failed readiness probes, counted by the filter.
        services.AddSingleton<KubeletProbes>();
        services.AddTransient<IStartupFilter, KubeletProbesStartupFilter>();
        services.AddSingleton<IShutdownAdvisor, PodShutdownAdvisor>();

        // No client timeout (each read is bounded by RequestTimeout on the lifecycle's clock), no redirects (the token
        // would follow), no handler logging (the package reports a failure once).
        services.AddHttpClient(PodReader.HttpClientName, static client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(static sp => Handler(PodLocation.Find(
                sp.GetRequiredService<IOptions<KubernetesOptions>>().Value, sp.GetRequiredService<KubernetesEnvironment>()).CaPath))
            .RemoveAllLoggers();
        return builder;
    }

    /// <summary>
    /// The API server's certificate is issued by the cluster's own CA, which the kubelet mounts as the service
    /// account's <c>ca.crt</c>: trusted for this client only, on top of the system's roots. The host name is still checked.
    /// </summary>
    private static SocketsHttpHandler Handler(string? caPath)
    {
        var handler = new SocketsHttpHandler { AllowAutoRedirect = false };
        if (caPath is null)
        {
            return handler;
        }

        var authorities = new X509Certificate2Collection();
        authorities.ImportFromPemFile(caPath);
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
        {
            if (errors == SslPolicyErrors.None)
            {
                return true;
            }

            if (errors != SslPolicyErrors.RemoteCertificateChainErrors || certificate is null)
            {
                return false;
            }

            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            var leaf = certificate as X509Certificate2 ?? new X509Certificate2(certificate);
            return chain.Build(leaf);
        };
        return handler;
    }
}
