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
        ConsulOptionsValidator.CheckAgent(check, options.Address, options.Token);
        check.NotNegative(nameof(options.ConsumerRefreshInterval), options.ConsumerRefreshInterval, "zero follows the service with blocking queries");
        check.Positive(nameof(options.RequestTimeout), options.RequestTimeout);
        return check.Result();
    }
}
