using System.Net;
using GracefulLifecycle.Transport;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Consul;

/// <summary>Checks <see cref="ConsulOptions"/> at startup; every message names the configuration key at fault.</summary>
internal sealed class ConsulOptionsValidator : IValidateOptions<ConsulOptions>
{
    private const string Prefix = ConsulOptions.SectionName + ":";
    private const int MaxMetaPairs = 64;
    private const int MaxMetaKeyLength = 128;
    private const int MaxMetaValueLength = 512;

    public ValidateOptionsResult Validate(string? name, ConsulOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();

        // One agent: the local one. The adapters' one parser decides what a URL is.
        if (RegistryUrls.Parse(options.Address, out var invalid) is not [_] || invalid.Length > 0)
        {
            failures.Add($"{Prefix}{nameof(options.Address)} must be an absolute http or https URL such as {ConsulOptions.DefaultAddress} (was '{options.Address}').");
        }

        RequireNullOrText(failures, nameof(options.Token), options.Token, "remove it to send no token");
        RequireNullOrText(failures, nameof(options.ServiceName), options.ServiceName, "remove it to use the application name");
        RequireNullOrText(failures, nameof(options.ServiceId), options.ServiceId, "remove it for {ServiceName}-{host}-{port}");
        RequireNullOrText(failures, nameof(options.ServiceAddress), options.ServiceAddress, "remove it for the instance's IP address");
        if (options.ServiceAddress is { } address && !string.IsNullOrWhiteSpace(address) && IPAddress.TryParse(address, out var ip) &&
            (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any)))
        {
            failures.Add($"{Prefix}{nameof(options.ServiceAddress)} must be an address consumers can call, not '{address}'.");
        }

        if (options.Port is { } port && (port < 1 || port > 65535))
        {
            failures.Add($"{Prefix}{nameof(options.Port)} must be a TCP port from 1 to 65535 (was {port}).");
        }

        for (var i = 0; i < options.Tags.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(options.Tags[i]))
            {
                failures.Add($"{Prefix}{nameof(options.Tags)}:{i} must not be empty.");
            }
        }

        CheckMeta(failures, options.Metadata);

        RequirePositive(failures, nameof(options.CheckInterval), options.CheckInterval);
        RequirePositive(failures, nameof(options.CheckTimeout), options.CheckTimeout);
        // Consul raises a value below one minute to one minute and accepts it (hashicorp/consul agent/agent.go, addCheck):
        // only a negative value, which no Go duration the agent would honour, is refused.
        if (options.DeregisterCriticalServiceAfter < TimeSpan.Zero)
        {
            failures.Add(
                $"{Prefix}{nameof(options.DeregisterCriticalServiceAfter)} must not be negative (was {options.DeregisterCriticalServiceAfter}); " +
                $"use {ConsulOptions.MinimumDeregisterCriticalServiceAfter} (Consul's minimum, the default), or 00:00:00 to never remove the service.");
        }

        if (options.CheckUrl is not null && !IsHttpUrl(options.CheckUrl))
        {
            failures.Add($"{Prefix}{nameof(options.CheckUrl)} must be an absolute http or https URL (was '{options.CheckUrl}'); remove it to check the readiness endpoint.");
        }

        if (!Enum.IsDefined(options.ConsumerProfile))
        {
            failures.Add(
                $"{Prefix}{nameof(options.ConsumerProfile)} must be one of {string.Join(", ", Enum.GetNames<ConsulConsumerProfile>())} (was {(int)options.ConsumerProfile}).");
        }

        if (options.LivenessCheckUrl is not null && !IsHttpUrl(options.LivenessCheckUrl))
        {
            failures.Add($"{Prefix}{nameof(options.LivenessCheckUrl)} must be an absolute http or https URL (was '{options.LivenessCheckUrl}'); remove it to check the liveness endpoint.");
        }

        RequireAtLeastZero(failures, nameof(options.ConsumerRefreshInterval), options.ConsumerRefreshInterval);
        RequireAtLeastZero(failures, nameof(options.LoadBalancerCacheTtl), options.LoadBalancerCacheTtl);
        RequireAtLeastZero(failures, nameof(options.PropagationMargin), options.PropagationMargin);
        if (options.VisibilityDelay is { } visibility)
        {
            RequireAtLeastZero(failures, nameof(options.VisibilityDelay), visibility);
        }

        if (options.RenewalInterval != Timeout.InfiniteTimeSpan)
        {
            RequirePositive(failures, nameof(options.RenewalInterval), options.RenewalInterval);
        }

        RequirePositive(failures, nameof(options.RequestTimeout), options.RequestTimeout);

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsHttpUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    private static void CheckMeta(List<string> failures, IDictionary<string, string> meta)
    {
        if (meta.Count > MaxMetaPairs)
        {
            failures.Add($"{Prefix}{nameof(ConsulOptions.Metadata)} has {meta.Count} pairs; Consul accepts at most {MaxMetaPairs}.");
        }

        foreach (var (key, value) in meta)
        {
            if (key.Length == 0 || key.Length > MaxMetaKeyLength || !key.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                failures.Add(
                    $"{Prefix}{nameof(ConsulOptions.Metadata)}:{key} is not a valid Consul metadata key " +
                    $"(1 to {MaxMetaKeyLength} letters, digits, '-' or '_').");
            }
            else if (key.StartsWith("consul-", StringComparison.OrdinalIgnoreCase))
            {
                failures.Add($"{Prefix}{nameof(ConsulOptions.Metadata)}:{key} uses the prefix 'consul-', which Consul reserves.");
            }

            if (value is not null && value.Length > MaxMetaValueLength)
            {
                failures.Add($"{Prefix}{nameof(ConsulOptions.Metadata)}:{key} is longer than {MaxMetaValueLength} characters, Consul's limit.");
            }
        }
    }

    private static void RequireNullOrText(List<string> failures, string option, string? value, string hint)
    {
        if (value is not null && string.IsNullOrWhiteSpace(value))
        {
            failures.Add($"{Prefix}{option} must not be blank; {hint}.");
        }
    }

    private static void RequirePositive(List<string> failures, string option, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            failures.Add($"{Prefix}{option} must be greater than zero (was {value}).");
        }
    }

    private static void RequireAtLeastZero(List<string> failures, string option, TimeSpan value)
    {
        if (value < TimeSpan.Zero)
        {
            failures.Add($"{Prefix}{option} must not be negative (was {value}).");
        }
    }
}
