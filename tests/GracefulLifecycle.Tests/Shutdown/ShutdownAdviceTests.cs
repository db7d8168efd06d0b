using System.Runtime.InteropServices;
using GracefulLifecycle.Adaptive;
using GracefulLifecycle.Shutdown;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.Tests.Shutdown;

/// <summary>The extension point a platform package adjusts the shutdown through (<see cref="IShutdownAdvisor"/>), on fake time.</summary>
public sealed class ShutdownAdviceTests
{
    private static readonly TimeSpan Delay = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Ms = TimeSpan.FromMilliseconds(1);

    [Theory]
    // untilDeadline, delay, drain, margin, floor => delay, drain, compressed (seconds)
    [InlineData(30, 10, 10, 2, 2, 10, 10, false)] // fits: nothing changes
    [InlineData(8, 10, 10, 2, 2, 2, 4, true)] // the delay gives way to its floor, then the drain
    [InlineData(20, 10, 10, 2, 2, 8, 10, true)] // only the delay needs to give way
    [InlineData(5, 10, 10, 2, 2, 2, 1, true)] // the floor holds while the drain shrinks
    [InlineData(3, 10, 10, 2, 2, 1, 0, true)] // below floor + margin: what is left is the delay, no drain
    [InlineData(1, 10, 10, 2, 2, 0, 0, true)] // past the margin already: exit now
    [InlineData(8, 1, 10, 2, 2, 1, 5, true)] // a planned delay below the floor is kept as it is
    public void Fit_CutsTheDelayToItsFloorFirst_ThenTheDrain_NeverTheMargin(
        int until, int delay, int drain, int margin, int floor, int fitDelay, int fitDrain, bool compressed)
    {
        var fit = ShutdownFit.Fit(S(until), S(delay), S(drain), S(margin), S(floor));

        Assert.Equal(new ShutdownFit(S(fitDelay), S(fitDrain), compressed), fit);
        Assert.True(fit.Delay + fit.Drain <= S(Math.Max(until - margin, 0)) || !compressed);
    }

    [Fact]
    public async Task Advice_DeadlineShorterThanThePlan_StopsAfterTheFloorAndAbortsAtTheCutDrain()
    {
        using var h = await ReadyAsync(new Advisor((c, _) => Task.FromResult<ShutdownAdvice?>(
            new ShutdownAdvice("pod deleted with a grace period of 8 s") { Deadline = c.LeavingAt + S(8), MinimumDelay = S(2) })));
        h.Requests.Enter();

        h.Coordinator.OnSignal(PosixSignal.SIGTERM);
        await Eventually.TrueAsync(() => Timeline(h).Advice != "none" && h.Time.HasTimerDueIn(S(2)), "the advice applied, the cut delay armed");

        // 8 s less the 2 s margin: the delay is cut to its 2 s floor, the drain gets the other 4 s.
        h.Time.Advance(S(2) - Ms);
        Assert.Equal(0, h.HostLifetime.StopCalls);
        h.Time.Advance(Ms);
        await Eventually.TrueAsync(() => h.HostLifetime.StopCalls == 1 && h.Time.HasTimerDueIn(S(4)), "StopApplication after the cut delay, the cut drain armed");

        h.Time.Advance(S(4) - Ms);
        Assert.False(h.Requests.AbortToken.IsCancellationRequested);
        h.Time.Advance(Ms);
        Assert.True(h.Requests.AbortToken.IsCancellationRequested);

        Assert.Contains("delay 10000 -> 2000 ms, drain 10000 -> 4000 ms", Timeline(h).Advice, StringComparison.Ordinal);
        Assert.True(h.Logs.Contains("[76] Shutdown fitted to the deadline"));
    }

    [Fact]
    public async Task Advice_DeadlineLaterThanThePlan_ChangesNothing()
    {
        using var h = await ReadyAsync(new Advisor((c, _) => Task.FromResult<ShutdownAdvice?>(
            new ShutdownAdvice("pod deleted with a grace period of 60 s") { Deadline = c.LeavingAt + S(60), MinimumDelay = S(2) })));

        h.Coordinator.OnSignal(PosixSignal.SIGTERM);
        await Eventually.TrueAsync(() => Timeline(h).Advice != "none" && h.Time.HasTimerDueIn(Delay), "the advice applied, the delay armed");

        h.Time.Advance(Delay - Ms);
        Assert.Equal(0, h.HostLifetime.StopCalls);
        h.Time.Advance(Ms);
        await Eventually.TrueAsync(() => h.HostLifetime.StopCalls == 1, "StopApplication after the whole delay");
        Assert.Contains("the plan fits before the deadline", Timeline(h).Advice, StringComparison.Ordinal);
        Assert.False(h.Logs.Contains("[76]"));
    }

    [Fact]
    public async Task Advice_Hold_KeepsServingUntilTheCondition_ThenServesTheWholeDelay()
    {
        var condition = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var h = await ReadyAsync(new Advisor((_, _) => Task.FromResult<ShutdownAdvice?>(
            new ShutdownAdvice("container restart") { HoldUntil = condition.Task, HoldReason = "the third failed probe", MinimumDelay = S(2) })));

        h.Coordinator.OnSignal(PosixSignal.SIGTERM);
        await Eventually.TrueAsync(() => h.Logs.Contains("[77]"), "the hold started");
        h.Time.Advance(S(7));
        Assert.Equal(0, h.HostLifetime.StopCalls);
        Assert.Equal(LifecyclePhase.Leaving, h.Coordinator.Phase);

        condition.SetResult();
        await Eventually.TrueAsync(() => Timeline(h).Advice != "none" && h.Time.HasTimerDueIn(Delay), "the hold ended, the delay armed");
        h.Time.Advance(Delay - Ms);
        Assert.Equal(0, h.HostLifetime.StopCalls);
        h.Time.Advance(Ms);
        await Eventually.TrueAsync(() => h.HostLifetime.StopCalls == 1, "StopApplication after the delay that followed the hold");
        Assert.Contains("container restart; held 7000 ms until the third failed probe", Timeline(h).Advice, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Advice_HoldNeverMet_EndsWhereDrainMarginAndFloorStillFitInTheGracePeriod()
    {
        using var h = await ReadyAsync(new Advisor((_, _) => Task.FromResult<ShutdownAdvice?>(
            new ShutdownAdvice("container restart") { HoldUntil = new TaskCompletionSource().Task, HoldReason = "the third failed probe", MinimumDelay = S(2) })));

        h.Coordinator.OnSignal(PosixSignal.SIGTERM);
        await Eventually.TrueAsync(() => h.Logs.Contains("[77]"), "the hold started");

        // Grace 30 s - margin 2 s - drain 10 s - floor 2 s: held 16 s; then the delay fits in what is left, its floor.
        h.Time.Advance(S(16) - Ms);
        Assert.DoesNotContain(h.Logs.Lines, l => l.Contains("[78]", StringComparison.Ordinal));
        h.Time.Advance(Ms);
        await Eventually.TrueAsync(() => Timeline(h).Advice != "none" && h.Time.HasTimerDueIn(S(2)), "the hold ended at its bound, the cut delay armed");
        h.Time.Advance(S(2) - Ms);
        Assert.Equal(0, h.HostLifetime.StopCalls);
        h.Time.Advance(Ms);
        await Eventually.TrueAsync(() => h.HostLifetime.StopCalls == 1, "StopApplication 18 s after the signal");
        Assert.Contains("held 16000 ms to its bound", Timeline(h).Advice, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Advice_SecondSignal_EndsTheHold()
    {
        using var h = await ReadyAsync(new Advisor((_, _) => Task.FromResult<ShutdownAdvice?>(
            new ShutdownAdvice("container restart") { HoldUntil = new TaskCompletionSource().Task, HoldReason = "the third failed probe" })));

        h.Coordinator.OnSignal(PosixSignal.SIGTERM);
        await Eventually.TrueAsync(() => h.Logs.Contains("[77]"), "the hold started");
        h.Coordinator.OnSignal(PosixSignal.SIGTERM);

        await Eventually.TrueAsync(() => h.HostLifetime.StopCalls == 1, "StopApplication at once");
        Assert.Contains("until a second signal", Timeline(h).Advice, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Advice_AdvisorThatHangs_IsLeftAfterTwoSeconds_AndTheDelayIsNotLengthened()
    {
        using var h = await ReadyAsync(new Advisor((_, _) => new TaskCompletionSource<ShutdownAdvice?>().Task));

        h.Coordinator.OnSignal(PosixSignal.SIGTERM);
        await Eventually.TrueAsync(() => h.Time.HasTimerDueIn(ShutdownAdvisors.MaxWait), "the wait for the advice is bounded");
        h.Time.Advance(ShutdownAdvisors.MaxWait);
        await Eventually.TrueAsync(() => h.Logs.Contains("[79]"), "the advisor reported as silent");

        // The two seconds were served as part of the delay.
        await Eventually.TrueAsync(() => h.Time.HasTimerDueIn(Delay - ShutdownAdvisors.MaxWait), "the rest of the delay");
        h.Time.Advance(Delay - ShutdownAdvisors.MaxWait - Ms);
        Assert.Equal(0, h.HostLifetime.StopCalls);
        h.Time.Advance(Ms);
        await Eventually.TrueAsync(() => h.HostLifetime.StopCalls == 1, "StopApplication when the planned delay is over");
        Assert.Equal("none", Timeline(h).Advice);
    }

    [Fact]
    public async Task Advice_AdvisorThatBlocksItsThread_IsLeftAfterTwoSeconds()
    {
        using var release = new ManualResetEventSlim();
        try
        {
            using var h = await ReadyAsync(new Advisor((_, _) =>
            {
                release.Wait(CancellationToken.None);
                return Task.FromResult<ShutdownAdvice?>(null);
            }));

            h.Coordinator.OnSignal(PosixSignal.SIGTERM);
            Assert.Equal(LifecyclePhase.Leaving, h.Coordinator.Phase);
            await Eventually.TrueAsync(() => h.Time.HasTimerDueIn(ShutdownAdvisors.MaxWait), "the wait for the advice is bounded");
            h.Time.Advance(ShutdownAdvisors.MaxWait);
            await Eventually.TrueAsync(() => h.Logs.Contains("[79]"), "the advisor reported as silent");
        }
        finally
        {
            release.Set();
        }
    }

    [Fact]
    public async Task Advice_AdvisorThatThrows_IsIgnored()
    {
        using var h = await ReadyAsync(new Advisor((_, _) => throw new InvalidOperationException("the API refused")));

        h.Coordinator.OnSignal(PosixSignal.SIGTERM);
        await Eventually.TrueAsync(() => h.Logs.Contains("[79]"), "the failure reported");
        await Eventually.TrueAsync(() => h.Time.HasTimerDueIn(Delay), "the planned delay");
        h.Time.Advance(Delay);
        await Eventually.TrueAsync(() => h.HostLifetime.StopCalls == 1, "StopApplication after the planned delay");
    }

    private static TimeSpan S(int seconds) => TimeSpan.FromSeconds(seconds);

    private static ShutdownTimeline Timeline(LifecycleTestServices h) => h.Services.GetRequiredService<ShutdownTimeline>();

    private static async Task<LifecycleTestServices> ReadyAsync(IShutdownAdvisor advisor)
    {
        var h = LifecycleTestServices.Build(
            options: o =>
            {
                o.ShutdownDelay = Delay;
                o.DrainTimeout = Drain;
            },
            configure: b => b.Services.AddSingleton(advisor));
        await h.Coordinator.RunStartupAsync(CancellationToken.None);
        return h;
    }

    private sealed class Advisor(Func<ShutdownAdviceContext, CancellationToken, Task<ShutdownAdvice?>> advise) : IShutdownAdvisor
    {
        public Task<ShutdownAdvice?> AdviseAsync(ShutdownAdviceContext context, CancellationToken cancellationToken) => advise(context, cancellationToken);
    }
}
