using GracefulLifecycle.Validation;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Etcd;

/// <summary>Checks <see cref="EtcdEndpointProviderOptions"/> at startup; every message names the configuration key at fault.</summary>
internal sealed class EtcdEndpointProviderOptionsValidator : IValidateOptions<EtcdEndpointProviderOptions>
{
    private const string Prefix = EtcdOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, EtcdEndpointProviderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var check = new OptionChecks(Prefix);
        EtcdOptionsValidator.CheckConnection(check, options.Endpoints, options.KeyPrefix);

        check.NotNegative(nameof(options.ConsumerRefreshInterval), options.ConsumerRefreshInterval, "zero watches the keys");
        check.Positive(nameof(options.RequestTimeout), options.RequestTimeout);
        return check.Result();
    }
}
