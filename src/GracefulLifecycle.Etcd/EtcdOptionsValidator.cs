using GracefulLifecycle.Transport;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Etcd;

/// <summary>Checks <see cref="EtcdOptions"/> at startup; every message names the configuration key at fault.</summary>
internal sealed class EtcdOptionsValidator : IValidateOptions<EtcdOptions>
{
    private const string Prefix = EtcdOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, EtcdOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        failures.AddRange(RegistryUrls.Validate(Prefix + nameof(options.Endpoints), options.Endpoints, "http://127.0.0.1:2379"));

        if (string.IsNullOrWhiteSpace(options.KeyPrefix) || options.KeyPrefix[0] != '/')
        {
            failures.Add($"{Prefix}{nameof(options.KeyPrefix)} must start with '/' (was '{options.KeyPrefix}').");
        }

        if (options.LeaseTtl < TimeSpan.FromSeconds(2) || options.LeaseTtl.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            failures.Add($"{Prefix}{nameof(options.LeaseTtl)} must be a whole number of seconds, at least 2 (was {options.LeaseTtl}).");
        }

        if (options.KeepAliveInterval is { } keepAlive && (keepAlive <= TimeSpan.Zero || keepAlive >= options.LeaseTtl))
        {
            failures.Add($"{Prefix}{nameof(options.KeepAliveInterval)} must be greater than zero and shorter than {Prefix}{nameof(options.LeaseTtl)} (was {keepAlive}).");
        }

        if (options.ConsumerRefreshInterval < TimeSpan.Zero)
        {
            failures.Add($"{Prefix}{nameof(options.ConsumerRefreshInterval)} must not be negative (was {options.ConsumerRefreshInterval}).");
        }

        if (!Enum.IsDefined(options.ConsumerProfile))
        {
            failures.Add(
                $"{Prefix}{nameof(options.ConsumerProfile)} must be one of {string.Join(", ", Enum.GetNames<EtcdConsumerProfile>())} (was {(int)options.ConsumerProfile}).");
        }

        if (options.LoadBalancerCacheTtl < TimeSpan.Zero)
        {
            failures.Add($"{Prefix}{nameof(options.LoadBalancerCacheTtl)} must not be negative (was {options.LoadBalancerCacheTtl}).");
        }

        if (options.PropagationMargin < TimeSpan.Zero)
        {
            failures.Add($"{Prefix}{nameof(options.PropagationMargin)} must not be negative (was {options.PropagationMargin}).");
        }

        if (options.VisibilityDelay is { } visibility && visibility < TimeSpan.Zero)
        {
            failures.Add($"{Prefix}{nameof(options.VisibilityDelay)} must not be negative (was {visibility}).");
        }

        if (options.RequestTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{Prefix}{nameof(options.RequestTimeout)} must be greater than zero (was {options.RequestTimeout}).");
        }

        if (options.Port is { } port && (port < 1 || port > 65535))
        {
            failures.Add($"{Prefix}{nameof(options.Port)} must be a TCP port from 1 to 65535 (was {port}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
