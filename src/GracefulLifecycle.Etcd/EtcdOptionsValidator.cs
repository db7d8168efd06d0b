using GracefulLifecycle.Transport;
using GracefulLifecycle.Validation;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Etcd;

/// <summary>Checks <see cref="EtcdOptions"/> at startup; every message names the configuration key at fault.</summary>
internal sealed class EtcdOptionsValidator : IValidateOptions<EtcdOptions>
{
    private const string Prefix = EtcdOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, EtcdOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var check = new OptionChecks(Prefix);
        CheckConnection(check, options.Endpoints, options.KeyPrefix);

        if (options.LeaseTtl < TimeSpan.FromSeconds(2) || options.LeaseTtl.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            check.Fail($"{Prefix}{nameof(options.LeaseTtl)} must be a whole number of seconds, at least 2 (was {options.LeaseTtl}).");
        }

        check.TimerRange(nameof(options.LeaseTtl), options.LeaseTtl);

        if (options.KeepAliveInterval is { } keepAlive && (keepAlive <= TimeSpan.Zero || keepAlive >= options.LeaseTtl))
        {
            check.Fail($"{Prefix}{nameof(options.KeepAliveInterval)} must be greater than zero and shorter than {Prefix}{nameof(options.LeaseTtl)} (was {keepAlive}).");
        }

        check.NotNegative(nameof(options.ConsumerRefreshInterval), options.ConsumerRefreshInterval);

        check.OneOf(nameof(options.ConsumerProfile), options.ConsumerProfile);

        check.NotNegative(nameof(options.LoadBalancerCacheTtl), options.LoadBalancerCacheTtl);

        check.NotNegative(nameof(options.PropagationMargin), options.PropagationMargin);

        if (options.VisibilityDelay is { } visibility)
        {
            check.NotNegative(nameof(options.VisibilityDelay), visibility);
        }

        check.Positive(nameof(options.RequestTimeout), options.RequestTimeout);

        check.Port(nameof(options.Port), options.Port);

        return check.Result();
    }

    /// <summary>
    /// The keys both ends read to reach the same keys (the registration's <see cref="EtcdOptions"/> and the endpoint
    /// provider's options, bound from one section): the servers and the key prefix.
    /// </summary>
    internal static void CheckConnection(OptionChecks check, string endpoints, string keyPrefix)
    {
        foreach (var failure in RegistryUrls.Validate(Prefix + nameof(EtcdOptions.Endpoints), endpoints, "http://127.0.0.1:2379"))
        {
            check.Fail(failure);
        }

        if (string.IsNullOrWhiteSpace(keyPrefix) || keyPrefix[0] != '/')
        {
            check.Fail($"{Prefix}{nameof(EtcdOptions.KeyPrefix)} must start with '/' (was '{keyPrefix}').");
        }
    }
}
