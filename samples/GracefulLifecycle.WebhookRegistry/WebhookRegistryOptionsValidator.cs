using Microsoft.Extensions.Options;

namespace GracefulLifecycle.WebhookRegistry;

/// <summary>Checks <see cref="WebhookRegistryOptions"/> at startup; every message names the key at fault.</summary>
internal sealed class WebhookRegistryOptionsValidator : IValidateOptions<WebhookRegistryOptions>
{
    private const string Prefix = WebhookRegistryOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, WebhookRegistryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (!Uri.TryCreate(options.Url, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            failures.Add($"{Prefix}{nameof(options.Url)} must be an absolute http(s) URL such as http://registry:8080/ (was '{options.Url}').");
        }

        if (options.PropagationDelay < TimeSpan.Zero)
        {
            failures.Add($"{Prefix}{nameof(options.PropagationDelay)} must not be negative (was {options.PropagationDelay}).");
        }

        if (options.RenewalInterval <= TimeSpan.Zero)
        {
            failures.Add($"{Prefix}{nameof(options.RenewalInterval)} must be greater than zero (was {options.RenewalInterval}).");
        }

        if (options.RequestTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{Prefix}{nameof(options.RequestTimeout)} must be greater than zero (was {options.RequestTimeout}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
