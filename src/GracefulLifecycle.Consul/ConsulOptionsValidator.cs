using System.Net;
using GracefulLifecycle.Transport;
using GracefulLifecycle.Validation;
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
        var check = new OptionChecks(Prefix);

        CheckAgent(check, options.Address, options.Token);
        check.NullOrText(nameof(options.ServiceName), options.ServiceName, "remove it to use the application name");
        check.NullOrText(nameof(options.ServiceId), options.ServiceId, "remove it for {ServiceName}-{host}-{port}");
        check.NullOrText(nameof(options.ServiceAddress), options.ServiceAddress, "remove it for the instance's IP address");
        if (options.ServiceAddress is { } address && !string.IsNullOrWhiteSpace(address) && IPAddress.TryParse(address, out var ip) &&
            (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any)))
        {
            check.Fail($"{Prefix}{nameof(options.ServiceAddress)} must be an address consumers can call, not '{address}'.");
        }

        check.Port(nameof(options.Port), options.Port);

        for (var i = 0; i < options.Tags.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(options.Tags[i]))
            {
                check.Fail($"{Prefix}{nameof(options.Tags)}:{i} must not be empty.");
            }
        }

        CheckMeta(check, options.Metadata);

        check.Positive(nameof(options.CheckInterval), options.CheckInterval);
        check.Positive(nameof(options.CheckTimeout), options.CheckTimeout);
        // Consul raises a value below one minute to one minute and accepts it (hashicorp/consul agent/agent.go, addCheck):
        // only a negative value, which no Go duration the agent would honour, is refused.
        check.NotNegative(
            nameof(options.DeregisterCriticalServiceAfter), options.DeregisterCriticalServiceAfter,
            $"use {ConsulOptions.MinimumDeregisterCriticalServiceAfter} (Consul's minimum, the default), or 00:00:00 to never remove the service");

        if (options.CheckUrl is not null && !IsHttpUrl(options.CheckUrl))
        {
            check.Fail($"{Prefix}{nameof(options.CheckUrl)} must be an absolute http or https URL (was '{options.CheckUrl}'); remove it to check the readiness endpoint.");
        }

        check.OneOf(nameof(options.ConsumerProfile), options.ConsumerProfile);

        if (options.LivenessCheckUrl is not null && !IsHttpUrl(options.LivenessCheckUrl))
        {
            check.Fail($"{Prefix}{nameof(options.LivenessCheckUrl)} must be an absolute http or https URL (was '{options.LivenessCheckUrl}'); remove it to check the liveness endpoint.");
        }

        check.NotNegative(nameof(options.ConsumerRefreshInterval), options.ConsumerRefreshInterval);
        check.NotNegative(nameof(options.LoadBalancerCacheTtl), options.LoadBalancerCacheTtl);
        check.NotNegative(nameof(options.PropagationMargin), options.PropagationMargin);
        if (options.VisibilityDelay is { } visibility)
        {
            check.NotNegative(nameof(options.VisibilityDelay), visibility);
        }

        if (options.RenewalInterval != Timeout.InfiniteTimeSpan)
        {
            check.Positive(nameof(options.RenewalInterval), options.RenewalInterval);
        }

        check.Positive(nameof(options.RequestTimeout), options.RequestTimeout);

        return check.Result();
    }

    private static bool IsHttpUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    private static void CheckMeta(OptionChecks check, IDictionary<string, string> meta)
    {
        if (meta.Count > MaxMetaPairs)
        {
            check.Fail($"{Prefix}{nameof(ConsulOptions.Metadata)} has {meta.Count} pairs; Consul accepts at most {MaxMetaPairs}.");
        }

        foreach (var (key, value) in meta)
        {
            if (key.Length == 0 || key.Length > MaxMetaKeyLength || !key.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                check.Fail(
                    $"{Prefix}{nameof(ConsulOptions.Metadata)}:{key} is not a valid Consul metadata key " +
                    $"(1 to {MaxMetaKeyLength} letters, digits, '-' or '_').");
            }
            else if (key.StartsWith("consul-", StringComparison.OrdinalIgnoreCase))
            {
                check.Fail($"{Prefix}{nameof(ConsulOptions.Metadata)}:{key} uses the prefix 'consul-', which Consul reserves.");
            }

            if (value is not null && value.Length > MaxMetaValueLength)
            {
                check.Fail($"{Prefix}{nameof(ConsulOptions.Metadata)}:{key} is longer than {MaxMetaValueLength} characters, Consul's limit.");
            }
        }
    }

    /// <summary>
    /// The keys both ends read to reach the agent (the registration's <see cref="ConsulOptions"/> and the endpoint
    /// provider's options, bound from one section): one agent, the local one, and its token.
    /// </summary>
    internal static void CheckAgent(OptionChecks check, string address, string? token)
    {
        // The adapters' one parser decides what a URL is.
        if (RegistryUrls.Parse(address, out var invalid) is not [_] || invalid.Length > 0)
        {
            check.Fail($"{Prefix}{nameof(ConsulOptions.Address)} must be an absolute http or https URL such as {ConsulOptions.DefaultAddress} (was '{address}').");
        }

        check.NullOrText(nameof(ConsulOptions.Token), token, "remove it to send no token");
    }
}
