using GracefulLifecycle.TestSupport;
using GracefulLifecycle.Validation;

namespace GracefulLifecycle.Tests.Options;

/// <summary>
/// The liveness probe as declared (<c>LivenessProbe:Period</c> x <c>LivenessProbe:FailureThreshold</c>) against the
/// drain: the server refuses probes from the start of the drain, so a failure window shorter than the drain and the exit
/// after it is warned about at startup (a warning, not a failure: a pod deletion stops the kubelet's liveness probes).
/// </summary>
public sealed class LivenessProbeWindowTests
{
    [Fact]
    public async Task AFailureWindowShorterThanTheDrain_LogsAWarningAtStartup_NamingTheOptionsAndTheFigures()
    {
        // 5 s x 3 = 15 s, against a 20 s drain + 2 s margin.
        await using var host = await LifecycleTestHost.StartAsync(settings: new Dictionary<string, string?>
        {
            ["GracefulLifecycle:ShutdownDelay"] = "00:00:05",
            ["GracefulLifecycle:DrainTimeout"] = "00:00:20",
            ["GracefulLifecycle:LivenessProbe:Period"] = "00:00:05",
            ["GracefulLifecycle:LivenessProbe:FailureThreshold"] = "3",
        });

        var warning = Assert.Single(host.Logs.Lines, l => l.Contains("[33]", StringComparison.Ordinal));
        Assert.StartsWith("Warning", warning, StringComparison.Ordinal);
        Assert.Contains("LivenessProbe:Period 00:00:05 x LivenessProbe:FailureThreshold 3 = 00:00:15", warning, StringComparison.Ordinal);
        Assert.Contains("DrainTimeout 00:00:20 + ShutdownMargin 00:00:02", warning, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00:00:10", "3")] // 30 s, the Kubernetes defaults, covers 20 s + 2 s
    [InlineData("00:00:11", "2")] // 22 s: exactly the drain and the margin
    [InlineData(null, "1")] // no probe declared: nothing to compare
    public async Task AFailureWindowThatCoversTheDrain_OrNoProbeDeclared_NoWarning(string? period, string threshold)
    {
        await using var host = await LifecycleTestHost.StartAsync(settings: new Dictionary<string, string?>
        {
            ["GracefulLifecycle:ShutdownDelay"] = "00:00:05",
            ["GracefulLifecycle:DrainTimeout"] = "00:00:20",
            ["GracefulLifecycle:LivenessProbe:Period"] = period,
            ["GracefulLifecycle:LivenessProbe:FailureThreshold"] = threshold,
        });

        Assert.DoesNotContain(host.Logs.Lines, l => l.Contains("[33]", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(0, 3, "GracefulLifecycle:LivenessProbe:Period must be greater than zero")]
    [InlineData(10, 0, "GracefulLifecycle:LivenessProbe:FailureThreshold must be at least 1")]
    public void AZeroPeriodOrThreshold_FailsValidationNamingTheKey(int periodSeconds, int threshold, string message)
    {
        var options = new GracefulLifecycleOptions();
        options.LivenessProbe.Period = TimeSpan.FromSeconds(periodSeconds);
        options.LivenessProbe.FailureThreshold = threshold;

        var result = new GracefulLifecycleOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(message, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void AFailureWindowTooLargeForATimeSpan_IsSaturated_NotAnOverflow()
    {
        var options = new GracefulLifecycleOptions();
        options.LivenessProbe.Period = TimeSpan.FromDays(49);
        options.LivenessProbe.FailureThreshold = int.MaxValue;

        Assert.Equal(TimeSpan.MaxValue, options.LivenessProbe.FailureWindow);
        Assert.True(new GracefulLifecycleOptionsValidator().Validate(null, options).Succeeded);
    }
}
