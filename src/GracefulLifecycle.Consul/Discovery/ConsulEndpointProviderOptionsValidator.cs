using GracefulLifecycle.Transport;
using GracefulLifecycle.Validation;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Consul;

/// <summary>Checks <see cref="ConsulEndpointProviderOptions"/> at startup; every message names the configuration key at fault.</summary>
internal sealed class ConsulEndpointProviderOptionsValidator : IValidateOptions<ConsulEndpointProviderOptions>
{
    private const string Prefix = ConsulOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, ConsulEndpointProviderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var check = new OptionChecks(Prefix);
        if (RegistryUrls.Parse(options.Address, out var invalid) is not [_] || invalid.Length > 0)
        {
            check.Fail($"{Prefix}{nameof(options.Address)} must be an absolute http or https URL such as {ConsulOptions.DefaultAddress} (was '{options.Address}').");
        }

        check.NullOrText(nameof(options.Token), options.Token, "remove it to send no token");
        check.NotNegative(nameof(options.ConsumerRefreshInterval), options.ConsumerRefreshInterval, "zero follows the service with blocking queries");
        check.Positive(nameof(options.RequestTimeout), options.RequestTimeout);
        return check.Result();
    }
}
