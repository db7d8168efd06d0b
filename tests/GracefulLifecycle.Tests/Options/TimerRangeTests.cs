using GracefulLifecycle.Adaptive;
using GracefulLifecycle.Validation;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Tests.Options;

/// <summary>Every duration is held at startup to the range a timer accepts, which is exactly the runtime's own limit.</summary>
public sealed class TimerRangeTests
{
    private static readonly TimeSpan OneMillisecond = TimeSpan.FromMilliseconds(1);

    [Fact]
    public void MaxTimer_IsTheLongestDueTimeTheRuntimesTimersAccept()
    {
        using (new CancellationTokenSource(OptionChecks.MaxTimer, TimeProvider.System))
        using (TimeProvider.System.CreateTimer(static _ => { }, null, OptionChecks.MaxTimer, Timeout.InfiniteTimeSpan))
        {
        }

        var beyond = OptionChecks.MaxTimer + OneMillisecond;
        Assert.Throws<ArgumentOutOfRangeException>(() => new CancellationTokenSource(beyond, TimeProvider.System));
        Assert.Throws<ArgumentOutOfRangeException>(() => TimeProvider.System.CreateTimer(static _ => { }, null, beyond, Timeout.InfiniteTimeSpan));
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = Task.Delay(beyond, TimeProvider.System); });
    }

    private static readonly Dictionary<string, Action<GracefulLifecycleOptions, TimeSpan>> Durations = new()
    {
        ["ShutdownDelay"] = (o, d) => o.ShutdownDelay = d,
        ["DrainTimeout"] = (o, d) => o.DrainTimeout = d,
        ["WebSocketCloseDelay"] = (o, d) => (o.DrainTimeout, o.WebSocketCloseDelay) = (d + d, d),
        ["TerminationGracePeriod"] = (o, d) => o.TerminationGracePeriod = d,
        ["ShutdownMargin"] = (o, d) => o.ShutdownMargin = d,
        ["PreloadTimeout"] = (o, d) => o.PreloadTimeout = d,
        ["PreStop:Sleep"] = (o, d) => o.PreStop.Sleep = d,
        ["Registration:StartupTimeout"] = (o, d) => o.Registration.StartupTimeout = d,
        ["Registration:DeregistrationTimeout"] = (o, d) => o.Registration.DeregistrationTimeout = d,
        ["Registration:InFlightCallTimeout"] = (o, d) => (o.Registration.DeregistrationTimeout, o.Registration.InFlightCallTimeout) = (d + d, d),
        ["Registration:RetryInitialDelay"] = (o, d) => (o.Registration.RetryInitialDelay, o.Registration.RetryMaxDelay) = (d, d),
        ["Registration:RetryMaxDelay"] = (o, d) => o.Registration.RetryMaxDelay = d,
        ["LivenessProbe:Period"] = (o, d) => o.LivenessProbe.Period = d,
    };

    public static TheoryData<string> Keys => [.. Durations.Keys];

    [Theory]
    [MemberData(nameof(Keys))]
    public void ADurationJustBeyondATimersRange_FailsNamingTheKeyTheValueAndTheLimit(string key)
    {
        var beyond = OptionChecks.MaxTimer + OneMillisecond;

        var failures = Validate(key, beyond);

        Assert.Contains(
            $"GracefulLifecycle:{key} must be at most 49.17:02:47.2940000 (about 49.7 days, the longest timer .NET supports) (was {beyond}).",
            failures);
    }

    [Theory]
    [MemberData(nameof(Keys))]
    public void ADurationAtTheTimersLimit_IsNotRefusedForItsRange(string key)
    {
        // The budget may still refuse it against the grace period; the range itself includes its limit.
        var failures = Validate(key, OptionChecks.MaxTimer);

        Assert.DoesNotContain(failures, f => f.StartsWith($"GracefulLifecycle:{key} must be at most", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("MinimumDelay", "must be from 0 to 49.17:02:47.2940000")]
    [InlineData("MinimumQuietPeriod", "must be greater than zero and at most 49.17:02:47.2940000")]
    public void AnAdaptiveDurationBeyondATimersRange_FailsNamingTheKeyTheValueAndTheLimit(string key, string expected)
    {
        var beyond = OptionChecks.MaxTimer + OneMillisecond;
        var options = new GracefulLifecycleOptions { ShutdownDelay = OptionChecks.MaxTimer };
        options.AdaptiveDelay.Enabled = true;
        if (key == "MinimumDelay")
        {
            options.AdaptiveDelay.MinimumDelay = beyond;
        }
        else
        {
            options.AdaptiveDelay.MinimumQuietPeriod = beyond;
        }

        var result = new AdaptiveDelayOptionsValidator().Validate(null, options);

        var failure = Assert.Single(result.Failures!);
        Assert.StartsWith($"GracefulLifecycle:AdaptiveDelay:{key} {expected} (was {beyond})", failure, StringComparison.Ordinal);
    }

    private static IEnumerable<string> Validate(string key, TimeSpan value)
    {
        var options = new GracefulLifecycleOptions();
        Durations[key](options, value);
        return new GracefulLifecycleOptionsValidator().Validate(null, options).Failures ?? [];
    }
}
