namespace GracefulLifecycle.WebhookRegistry;

/// <summary>
/// Where and how the webhook registry is called, bound from the <c>GracefulLifecycle:Webhook</c> configuration section,
/// which overrides values set in code.
/// </summary>
public sealed class WebhookRegistryOptions
{
    /// <summary>The configuration section the options bind from.</summary>
    public const string SectionName = GracefulLifecycleOptions.SectionName + ":Webhook";

    /// <summary>
    /// Gets or sets the base URL of the webhook: the instance is <c>PUT {Url}instances/{id}</c> to register,
    /// <c>PUT {Url}instances/{id}/heartbeat</c> to renew and <c>DELETE {Url}instances/{id}</c> to leave. Required.
    /// </summary>
    /// <value>The default value is empty, which fails validation.</value>
    public string Url { get; set; } = string.Empty;

    /// <summary>Gets or sets how long the webhook's consumers may still call the instance after it left.</summary>
    /// <value>The default value is 2 seconds.</value>
    public TimeSpan PropagationDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Gets or sets how often the heartbeat is sent.</summary>
    /// <value>The default value is 10 seconds.</value>
    public TimeSpan RenewalInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets the timeout of each call, on the lifecycle's <see cref="TimeProvider"/>.</summary>
    /// <value>The default value is 5 seconds.</value>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
