using GracefulLifecycle.Transport;
using GracefulLifecycle.Validation;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Eureka;

/// <summary>Checks <see cref="EurekaEndpointProviderOptions"/> at startup; every message names the configuration key at fault.</summary>
internal sealed class EurekaEndpointProviderOptionsValidator : IValidateOptions<EurekaEndpointProviderOptions>
{
    private const string Prefix = EurekaOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, EurekaEndpointProviderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var check = new OptionChecks(Prefix);
        foreach (var failure in RegistryUrls.Validate(Prefix + nameof(options.ServiceUrl), options.ServiceUrl, "http://eureka:8761/eureka/"))
        {
            check.Fail(failure);
        }

        EurekaOptionsValidator.ValidateCredentials(check, options.ServiceUrl);
        if (options.RegistryFetchIntervalSeconds < 1)
        {
            check.Fail($"{Prefix}{nameof(options.RegistryFetchIntervalSeconds)} must be at least 1 for a consumer, which reads the changes at that interval (was {options.RegistryFetchIntervalSeconds}).");
        }

        check.TimerRange(nameof(options.RegistryFetchIntervalSeconds), options.RegistryFetchIntervalSeconds, TimeSpan.FromSeconds(1));
        check.Positive(nameof(options.RequestTimeout), options.RequestTimeout);
        return check.Result();
    }
}
