using GracefulLifecycle;
using GracefulLifecycle.WebhookRegistry;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the webhook registry to the graceful lifecycle.</summary>
public static class WebhookRegistryBuilderExtensions
{
    /// <summary>
    /// Registers the instance with a webhook once preload has succeeded, renews it while it runs, and removes it first
    /// when leaving. Options bind from <c>GracefulLifecycle:Webhook</c>, which overrides values set in
    /// <paramref name="configure"/>. Calling it again adds nothing but the new configure delegate.
    /// </summary>
    /// <param name="builder">The lifecycle builder.</param>
    /// <param name="configure">Sets the options; may be <see langword="null"/>.</param>
    /// <returns>The builder, for chaining.</returns>
    public static IGracefulLifecycleBuilder AddWebhookRegistry(this IGracefulLifecycleBuilder builder, Action<WebhookRegistryOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddSectionOptions(WebhookRegistryOptions.SectionName, configure);
        if (builder.Services.Any(d => d.ServiceType == typeof(IServiceRegistry) && d.ImplementationType == typeof(WebhookRegistry)))
        {
            return builder;
        }

        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WebhookRegistryOptions>, WebhookRegistryOptionsValidator>());

        // Calls are bounded on the lifecycle's clock, not by the client; redirects are not followed.
        builder.Services.AddHttpClient(WebhookRegistry.HttpClientName, static client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(static () => new SocketsHttpHandler { AllowAutoRedirect = false })
            .RemoveAllLoggers();
        return builder.AddServiceRegistry<WebhookRegistry>();
    }
}
