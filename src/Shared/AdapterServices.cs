using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Transport;

/// <summary>How every adapter adds itself: the same guard, options binding and HTTP client.</summary>
internal static class AdapterServices
{
    /// <summary>
    /// Adds the options (code, then the configuration section) and, on the first call only, the validator; returns
    /// <see langword="false"/> when the registry was added before, so a second call adds nothing but its configure delegate.
    /// </summary>
    public static bool TryAdd<TRegistry, TOptions, TValidator>(IGracefulLifecycleBuilder builder, string sectionName, Action<TOptions>? configure)
        where TRegistry : class, IServiceRegistry
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        builder.AddSectionOptions(sectionName, configure);
        if (builder.Services.Any(d => d.ServiceType == typeof(IServiceRegistry) && d.ImplementationType == typeof(TRegistry)))
        {
            return false;
        }

        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, TValidator>());
        return true;
    }

    /// <summary>
    /// Adds the adapter's named client: no client timeout (each call is bounded on the lifecycle's clock instead; the
    /// client's 100 s default would only get in the way), a capped buffer, no redirects (a registration, with its
    /// token, would go wherever an answer points), and no handler logging (the adapter's lines cover failures; the
    /// handler's would log every heartbeat). Configure it further with <c>AddHttpClient(name)</c> (TLS, proxies).
    /// </summary>
    public static void AddHttpClient(IServiceCollection services, string name) =>
        services.AddHttpClient(name, static client =>
            {
                client.Timeout = Timeout.InfiniteTimeSpan;
                client.MaxResponseContentBufferSize = RegistryTransport.MaxAnswerBytes;
            })
            .ConfigurePrimaryHttpMessageHandler(static () => new SocketsHttpHandler { AllowAutoRedirect = false })
            .RemoveAllLoggers();
}
