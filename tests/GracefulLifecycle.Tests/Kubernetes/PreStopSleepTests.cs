using System.Runtime.InteropServices;
using GracefulLifecycle.Shutdown;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.Tests.Infrastructure;
using GracefulLifecycle.Tests.Registration;
using GracefulLifecycle.Validation;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.Tests.Kubernetes;

public sealed class PreStopSleepTests
{
    [Fact]
    public async Task Sigterm_AfterAPreStopSleep_ServesOnlyWhatIsLeftOfTheDelay()
    {
        using var h = LifecycleTestServices.Build(options: o => o.PreStop.Sleep = TimeSpan.FromSeconds(3));
        await h.Coordinator.RunStartupAsync(CancellationToken.None);

        h.Coordinator.OnSignal(PosixSignal.SIGTERM);
        await Eventually.TrueAsync(() => h.Time.PendingTimers == 2, "the delay timer and the bound on leaving");

        // 5 s configured, 3 s already slept by the kubelet: 2 s left.
        h.Time.Advance(TimeSpan.FromSeconds(2) - TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, h.HostLifetime.StopCalls);
        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        await Eventually.TrueAsync(() => h.HostLifetime.StopCalls == 1, "StopApplication after the rest of the delay");
    }

    [Fact]
    public async Task Sigterm_AfterAPreStopSleepLongerThanTheDelay_StopsAtOnce()
    {
        using var h = LifecycleTestServices.Build(options: o => o.PreStop.Sleep = TimeSpan.FromSeconds(8));
        await h.Coordinator.RunStartupAsync(CancellationToken.None);

        h.Coordinator.OnSignal(PosixSignal.SIGTERM);

        await Eventually.TrueAsync(() => h.HostLifetime.StopCalls == 1, "StopApplication without a delay");
    }

    [Fact]
    public async Task LeaveAsync_WithAPreStopSleepConfigured_StillServesTheWholeDelay()
    {
        using var h = LifecycleTestServices.Build(options: o => o.PreStop.Sleep = TimeSpan.FromSeconds(3));
        await h.Coordinator.RunStartupAsync(CancellationToken.None);

        var leave = h.Coordinator.LeaveAsync();
        await Eventually.TrueAsync(() => h.Time.PendingTimers == 1, "the delay timer");
        h.Time.Advance(TimeSpan.FromSeconds(5) - TimeSpan.FromMilliseconds(1));
        Assert.False(leave.IsCompleted);
        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        await Eventually.DoneAsync(leave, "the whole delay");
    }

    [Fact]
    public async Task Sigterm_AfterAPreStopSleep_WithARegistry_StillServesThePropagationDelayFromDeregistration()
    {
        var registry = new RecordingRegistry { PropagationDelay = TimeSpan.FromSeconds(4), VisibilityDelay = TimeSpan.Zero };
        using var h = LifecycleTestServices.Build(
            options: o => o.PreStop.Sleep = TimeSpan.FromSeconds(5),
            configure: b => b.Services.AddSingleton<IServiceRegistry>(registry));
        var startup = h.Coordinator.RunStartupAsync(CancellationToken.None);
        await h.Time.AdvanceUntilAsync(() => startup.IsCompleted, "registered");

        h.Coordinator.OnSignal(PosixSignal.SIGTERM);
        await Eventually.TrueAsync(() => registry.Count("deregister") == 1, "deregistered");
        await Eventually.TrueAsync(() => h.Time.HasTimerDueIn(TimeSpan.FromSeconds(4)), "the propagation delay armed");

        // The sleep covered the configured 5 s entirely; the registry's caches only start forgetting now.
        h.Time.Advance(TimeSpan.FromSeconds(4) - TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, h.HostLifetime.StopCalls);
        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        await Eventually.TrueAsync(() => h.HostLifetime.StopCalls == 1, "StopApplication after the propagation delay");
    }

    [Fact]
    public void Budget_CountsThePreStopSleep_AndFailsNamingIt()
    {
        var options = new GracefulLifecycleOptions { ShutdownDelay = TimeSpan.FromSeconds(5), DrainTimeout = TimeSpan.FromSeconds(20) };
        options.PreStop.Sleep = TimeSpan.FromSeconds(10);

        var plan = new ShutdownPlan(options, []);
        var result = new GracefulLifecycleOptionsValidator().Validate(null, options);

        // 10 s sleep + 0 s left of the delay + 20 s drain + 2 s margin = 32 s > 30 s.
        Assert.Equal(TimeSpan.FromSeconds(32), plan.TerminationBudget);
        Assert.Equal(TimeSpan.Zero, plan.DelayAfterPreStopSleep);
        Assert.Equal(TimeSpan.FromSeconds(27), plan.Total);
        Assert.True(result.Failed);
        Assert.Contains("GracefulLifecycle:PreStop:Sleep (00:00:10)", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("= 00:00:32 exceeds GracefulLifecycle:TerminationGracePeriod (00:00:30)", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Budget_WithASleepNoLongerThanTheDelay_IsTheSameAsWithout()
    {
        var options = new GracefulLifecycleOptions();
        options.PreStop.Sleep = TimeSpan.FromSeconds(5);

        var plan = new ShutdownPlan(options, []);

        // The sleep replaces the delay instead of adding to it: not served twice.
        Assert.Equal(new ShutdownPlan(new GracefulLifecycleOptions(), []).TerminationBudget, plan.TerminationBudget);
        Assert.True(new GracefulLifecycleOptionsValidator().Validate(null, options).Succeeded);
    }

    [Fact]
    public void ANegativeSleep_FailsValidationNamingIt()
    {
        var options = new GracefulLifecycleOptions();
        options.PreStop.Sleep = TimeSpan.FromSeconds(-1);

        var result = new GracefulLifecycleOptionsValidator().Validate(null, options);

        Assert.Contains("GracefulLifecycle:PreStop:Sleep must be at least 00:00:00", result.FailureMessage, StringComparison.Ordinal);
    }
}
