using GracefulLifecycle.Transport;
using GracefulLifecycle.Validation;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Eureka;

/// <summary>Checks <see cref="EurekaOptions"/> at startup; every message names the configuration key at fault.</summary>
internal sealed class EurekaOptionsValidator : IValidateOptions<EurekaOptions>
{
    private const string Prefix = EurekaOptions.SectionName + ":";
    private const string Unset = "remove it to use the default";

    public ValidateOptionsResult Validate(string? name, EurekaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var check = new OptionChecks(Prefix);

        foreach (var failure in RegistryUrls.Validate(Prefix + nameof(options.ServiceUrl), options.ServiceUrl, "http://eureka:8761/eureka/"))
        {
            check.Fail(failure);
        }

        ValidateCredentials(check, options.ServiceUrl);

        check.NullOrText(nameof(options.AppName), options.AppName, Unset);
        check.NullOrText(nameof(options.InstanceId), options.InstanceId, Unset);
        check.NullOrText(nameof(options.HostName), options.HostName, Unset);
        check.NullOrText(nameof(options.IpAddress), options.IpAddress, Unset);
        check.NullOrText(nameof(options.VipAddress), options.VipAddress, Unset);
        check.NullOrText(nameof(options.SecureVipAddress), options.SecureVipAddress, Unset);
        check.Port(nameof(options.Port), options.Port);
        check.Port(nameof(options.SecurePort), options.SecurePort);

        foreach (var key in options.Metadata.Keys.Where(string.IsNullOrWhiteSpace))
        {
            check.Fail($"{Prefix}{nameof(options.Metadata)} contains a blank key ('{key}').");
        }

        if (options.LeaseRenewalIntervalInSeconds < 1)
        {
            check.Fail($"{Prefix}{nameof(options.LeaseRenewalIntervalInSeconds)} must be at least 1 (was {options.LeaseRenewalIntervalInSeconds}).");
        }
        else if (options.LeaseExpirationDurationInSeconds <= options.LeaseRenewalIntervalInSeconds)
        {
            check.Fail(
                $"{Prefix}{nameof(options.LeaseExpirationDurationInSeconds)} ({options.LeaseExpirationDurationInSeconds}) must be greater than " +
                $"{Prefix}{nameof(options.LeaseRenewalIntervalInSeconds)} ({options.LeaseRenewalIntervalInSeconds}), or Eureka evicts the instance between two heartbeats.");
        }

        check.TimerRange(nameof(options.LeaseRenewalIntervalInSeconds), options.LeaseRenewalIntervalInSeconds, TimeSpan.FromSeconds(1));
        check.TimerRange(nameof(options.LeaseExpirationDurationInSeconds), options.LeaseExpirationDurationInSeconds, TimeSpan.FromSeconds(1));

        if (options.ResponseCacheUpdateIntervalMs < 0)
        {
            check.Fail($"{Prefix}{nameof(options.ResponseCacheUpdateIntervalMs)} must not be negative (was {options.ResponseCacheUpdateIntervalMs}).");
        }

        // No upper bound: an int of milliseconds (at most about 24.8 days) always fits a timer.

        if (options.RegistryFetchIntervalSeconds < 0)
        {
            check.Fail($"{Prefix}{nameof(options.RegistryFetchIntervalSeconds)} must not be negative (was {options.RegistryFetchIntervalSeconds}).");
        }

        check.TimerRange(nameof(options.RegistryFetchIntervalSeconds), options.RegistryFetchIntervalSeconds, TimeSpan.FromSeconds(1));

        check.OneOf(nameof(options.ConsumerProfile), options.ConsumerProfile);
        check.NotNegative(nameof(options.LoadBalancerCacheTtl), options.LoadBalancerCacheTtl, "zero when the consumers' load balancer keeps no cache");
        check.NotNegative(nameof(options.PropagationMargin), options.PropagationMargin);
        if (options.VisibilityDelay is { } visibility)
        {
            check.NotNegative(nameof(options.VisibilityDelay), visibility, "remove it to use the propagation delay");
        }

        check.Positive(nameof(options.RequestTimeout), options.RequestTimeout);

        return check.Result();
    }

    /// <summary>
    /// A URL with credentials that Spring's client would silently drop (no password, a malformed escape) fails here
    /// rather than at the first call with a 401. The message names the server without its credentials.
    /// </summary>
    internal static void ValidateCredentials(OptionChecks check, string? serviceUrl)
    {
        foreach (var entry in (serviceUrl ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (RegistryUrls.Parse(entry, out _) is [var url] && EurekaCredentials.Problem(entry, url) is { } problem)
            {
                check.Fail($"{Prefix}{nameof(EurekaOptions.ServiceUrl)} entry {RegistryUrls.Redact(url)} {problem}.");
            }
        }
    }
}
