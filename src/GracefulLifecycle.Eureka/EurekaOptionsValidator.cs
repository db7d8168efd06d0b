using GracefulLifecycle.Transport;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Eureka;

/// <summary>Checks <see cref="EurekaOptions"/> at startup; every message names the configuration key at fault.</summary>
internal sealed class EurekaOptionsValidator : IValidateOptions<EurekaOptions>
{
    private const string Prefix = EurekaOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, EurekaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();

        failures.AddRange(RegistryUrls.Validate(Prefix + nameof(options.ServiceUrl), options.ServiceUrl, "http://eureka:8761/eureka/"));

        RequireTextIfSet(failures, nameof(options.AppName), options.AppName);
        RequireTextIfSet(failures, nameof(options.InstanceId), options.InstanceId);
        RequireTextIfSet(failures, nameof(options.HostName), options.HostName);
        RequireTextIfSet(failures, nameof(options.IpAddress), options.IpAddress);
        RequireTextIfSet(failures, nameof(options.VipAddress), options.VipAddress);
        RequireTextIfSet(failures, nameof(options.SecureVipAddress), options.SecureVipAddress);
        RequirePort(failures, nameof(options.Port), options.Port);
        RequirePort(failures, nameof(options.SecurePort), options.SecurePort);

        foreach (var key in options.Metadata.Keys.Where(string.IsNullOrWhiteSpace))
        {
            failures.Add($"{Prefix}{nameof(options.Metadata)} contains a blank key ('{key}').");
        }

        if (options.LeaseRenewalIntervalInSeconds < 1)
        {
            failures.Add($"{Prefix}{nameof(options.LeaseRenewalIntervalInSeconds)} must be at least 1 (was {options.LeaseRenewalIntervalInSeconds}).");
        }
        else if (options.LeaseExpirationDurationInSeconds <= options.LeaseRenewalIntervalInSeconds)
        {
            failures.Add(
                $"{Prefix}{nameof(options.LeaseExpirationDurationInSeconds)} ({options.LeaseExpirationDurationInSeconds}) must be greater than " +
                $"{Prefix}{nameof(options.LeaseRenewalIntervalInSeconds)} ({options.LeaseRenewalIntervalInSeconds}), or Eureka evicts the instance between two heartbeats.");
        }

        if (options.ResponseCacheUpdateIntervalMs < 0)
        {
            failures.Add($"{Prefix}{nameof(options.ResponseCacheUpdateIntervalMs)} must not be negative (was {options.ResponseCacheUpdateIntervalMs}).");
        }

        if (options.RegistryFetchIntervalSeconds < 0)
        {
            failures.Add($"{Prefix}{nameof(options.RegistryFetchIntervalSeconds)} must not be negative (was {options.RegistryFetchIntervalSeconds}).");
        }

        if (!Enum.IsDefined(options.ConsumerProfile))
        {
            failures.Add(
                $"{Prefix}{nameof(options.ConsumerProfile)} must be one of {string.Join(", ", Enum.GetNames<EurekaConsumerProfile>())} (was {(int)options.ConsumerProfile}).");
        }

        if (options.LoadBalancerCacheTtl < TimeSpan.Zero)
        {
            failures.Add($"{Prefix}{nameof(options.LoadBalancerCacheTtl)} must not be negative (was {options.LoadBalancerCacheTtl}); zero when the consumers' load balancer keeps no cache.");
        }

        if (options.PropagationMargin < TimeSpan.Zero)
        {
            failures.Add($"{Prefix}{nameof(options.PropagationMargin)} must not be negative (was {options.PropagationMargin}).");
        }

        if (options.VisibilityDelay is { } visibility && visibility < TimeSpan.Zero)
        {
            failures.Add($"{Prefix}{nameof(options.VisibilityDelay)} must not be negative (was {visibility}); remove it to use the propagation delay.");
        }

        if (options.RequestTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{Prefix}{nameof(options.RequestTimeout)} must be greater than zero (was {options.RequestTimeout}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void RequireTextIfSet(List<string> failures, string option, string? value)
    {
        if (value is not null && string.IsNullOrWhiteSpace(value))
        {
            failures.Add($"{Prefix}{option} must not be blank; remove it to use the default.");
        }
    }

    private static void RequirePort(List<string> failures, string option, int? port)
    {
        if (port is { } p && (p < 1 || p > 65535))
        {
            failures.Add($"{Prefix}{option} must be a TCP port from 1 to 65535 (was {p}).");
        }
    }
}
