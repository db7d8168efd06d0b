using GracefulLifecycle.Validation;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Adaptive;

/// <summary>Checks <c>GracefulLifecycle:AdaptiveDelay</c> at startup; every message names the key, the value and the fix.</summary>
internal sealed class AdaptiveDelayOptionsValidator : IValidateOptions<GracefulLifecycleOptions>
{
    private const string Prefix = AdaptiveDelayOptions.SectionName + ":";

    private static readonly TimeSpan MaxTimer = OptionChecks.MaxTimer;

    public ValidateOptionsResult Validate(string? name, GracefulLifecycleOptions options)
    {
        var adaptive = options.AdaptiveDelay;
        var check = new OptionChecks(Prefix);
        if (adaptive.MinimumDelay < TimeSpan.Zero || adaptive.MinimumDelay > MaxTimer)
        {
            check.Fail($"{Prefix}{nameof(adaptive.MinimumDelay)} must be from 0 to {MaxTimer} (was {adaptive.MinimumDelay}).");
        }
        else if (adaptive.Enabled && adaptive.MinimumDelay > options.ShutdownDelay)
        {
            // Only when enabled: a short fixed delay (0 included) must stay valid with the minimum's default.
            check.Fail(
                $"{Prefix}{nameof(adaptive.MinimumDelay)} ({adaptive.MinimumDelay}) must not exceed {GracefulLifecycleOptions.SectionName}:{nameof(options.ShutdownDelay)} " +
                $"({options.ShutdownDelay}), the maximum of the adaptive delay. Lower the minimum or raise the shutdown delay.");
        }

        if (!double.IsFinite(adaptive.QuietPeriodFactor) || adaptive.QuietPeriodFactor < 1 || adaptive.QuietPeriodFactor > 1000)
        {
            check.Fail(
                $"{Prefix}{nameof(adaptive.QuietPeriodFactor)} must be from 1 to 1000 (was {adaptive.QuietPeriodFactor}): a peer counts as gone after this many of its mean gaps " +
                "between requests; below 1 a normal gap would end the delay. 10 is the default.");
        }

        if (adaptive.MinimumQuietPeriod <= TimeSpan.Zero || adaptive.MinimumQuietPeriod > MaxTimer)
        {
            check.Fail($"{Prefix}{nameof(adaptive.MinimumQuietPeriod)} must be greater than zero and at most {MaxTimer} (was {adaptive.MinimumQuietPeriod}); 00:00:00.500 is the default.");
        }

        if (adaptive.TrafficWindow < TimeSpan.FromSeconds(1) || adaptive.TrafficWindow > TimeSpan.FromDays(1))
        {
            check.Fail(
                $"{Prefix}{nameof(adaptive.TrafficWindow)} must be from 00:00:01 to 1.00:00:00 (was {adaptive.TrafficWindow}): the request rate before leaving is measured over it. " +
                "00:00:30 is the default.");
        }

        if (adaptive.MaxPeers < 1 || adaptive.MaxPeers > 1_000_000)
        {
            check.Fail($"{Prefix}{nameof(adaptive.MaxPeers)} must be from 1 to 1000000 (was {adaptive.MaxPeers}); 1024 is the default.");
        }

        if (!Enum.IsDefined(adaptive.ReadinessCheck))
        {
            check.Fail(
                $"{Prefix}{nameof(adaptive.ReadinessCheck)} must be {nameof(ReadinessCheckRule.Ignore)}, {nameof(ReadinessCheckRule.StoppedAtFailedCheck)} or " +
                $"{nameof(ReadinessCheckRule.CheckAfterQuietPeriod)} (was {adaptive.ReadinessCheck}); " +
                $"{ReadinessCheckRule.StoppedAtFailedCheck} is the default.");
        }

        for (var i = 0; i < adaptive.ExcludedPaths.Count; i++)
        {
            var path = adaptive.ExcludedPaths[i];
            if (string.IsNullOrEmpty(path) || path[0] != '/')
            {
                check.Fail($"{Prefix}{nameof(adaptive.ExcludedPaths)}:{i} must be a path starting with '/', such as /metrics (was '{path}').");
            }
        }

        return check.Result();
    }
}
