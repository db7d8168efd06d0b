using System.Runtime.InteropServices;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Tests.Lifecycle;

public sealed class LifecycleCoordinatorTests
{
    private static readonly TimeSpan Delay = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Startup_WithoutPreloadTasks_GoesThroughPreloadingToReady()
    {
        using var h = LifecycleTestServices.Build();
        Assert.Equal(LifecyclePhase.Starting, h.Coordinator.Phase);

        await h.Coordinator.RunStartupAsync(CancellationToken.None);

        Assert.Equal([LifecyclePhase.Preloading, LifecyclePhase.Ready], h.Phases);
        Assert.True(h.Coordinator.Ready.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Startup_IsReadyOnlyAfterEveryPreloadTaskCompleted()
    {
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var second = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var h = LifecycleTestServices.Build(configure: b => b
            .AddPreload("first", (_, _) => first.Task)
            .AddPreload("second", (_, _) => second.Task));

        var startup = h.Coordinator.RunStartupAsync(CancellationToken.None);
        Assert.Equal(LifecyclePhase.Preloading, h.Coordinator.Phase);

        first.SetResult();
        await Eventually.TrueAsync(() => h.Time.PendingTimers == 1, "only the second task's timeout is left");
        Assert.Equal(LifecyclePhase.Preloading, h.Coordinator.Phase);
        Assert.False(h.Coordinator.Ready.IsCompleted);

        second.SetResult();
        await Eventually.DoneAsync(startup, "startup");
        Assert.Equal(LifecyclePhase.Ready, h.Coordinator.Phase);
        Assert.True(h.Coordinator.Ready.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Preload_TimingOut_StopsTheApplicationWithExitCode1AndNeverReports()
    {
        using var h = LifecycleTestServices.Build(configure: b => b.AddPreload("stuck", (_, _) => new TaskCompletionSource().Task, TimeSpan.FromSeconds(30)));

        var startup = h.Coordinator.RunStartupAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => h.Time.PendingTimers == 1, "the preload timeout is armed");

        h.Time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(0, h.HostLifetime.StopCalls);

        h.Time.Advance(TimeSpan.FromSeconds(1));
        await Eventually.DoneAsync(startup, "startup ends after the timeout");

        Assert.Equal([1], h.ExitCodes);
        Assert.Equal(1, h.HostLifetime.StopCalls);
        Assert.True(h.Coordinator.Ready.IsFaulted);
        Assert.DoesNotContain(LifecyclePhase.Ready, h.Phases);
    }

    [Fact]
    public async Task Preload_BlockingItsThreadSynchronously_StillTimesOut_AndStopsWithExitCode1()
    {
        using var release = new ManualResetEventSlim();
        using var h = LifecycleTestServices.Build(configure: b => b.AddPreload("blocker", (_, _) =>
        {
            // Thread.Sleep(Timeout.Infinite) in the issue; released at the end so the test leaves no thread behind.
            release.Wait(CancellationToken.None);
            return Task.CompletedTask;
        }, TimeSpan.FromSeconds(1)));

        try
        {
            var startup = Task.Run(() => h.Coordinator.RunStartupAsync(CancellationToken.None));
            await Eventually.TrueAsync(() => h.Time.PendingTimers == 1, "the preload timeout is armed");
            h.Time.Advance(TimeSpan.FromSeconds(1));
            await Eventually.DoneAsync(startup, "startup ends after the timeout although the task still blocks");

            Assert.Equal([1], h.ExitCodes);
            Assert.Equal(1, h.HostLifetime.StopCalls);
            Assert.DoesNotContain(LifecyclePhase.Ready, h.Phases);
        }
        finally
        {
            release.Set();
        }
    }

    [Fact]
    public async Task Preload_Throwing_StopsTheApplicationWithExitCode1AndCancelsTheOthers()
    {
        var otherCanceled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var h = LifecycleTestServices.Build(configure: b => b
            .AddPreload("other", async (_, ct) =>
            {
                using var registration = ct.Register(() => otherCanceled.TrySetResult());
                await Task.Delay(Timeout.Infinite, ct);
            })
            .AddPreload("broken", (_, _) => Task.FromException(new InvalidOperationException("boom"))));

        await Eventually.DoneAsync(h.Coordinator.RunStartupAsync(CancellationToken.None), "startup");

        Assert.Equal([1], h.ExitCodes);
        Assert.Equal(1, h.HostLifetime.StopCalls);
        await Eventually.DoneAsync(otherCanceled.Task, "the other preload task saw its token fire");
        Assert.NotEqual(LifecyclePhase.Ready, h.Coordinator.Phase);
    }

    [Fact]
    public async Task Leaving_DuringPreload_CancelsItWithoutDelayAndKeepsExitCode()
    {
        var preloadStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var preloadCanceled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var h = LifecycleTestServices.Build(configure: b => b.AddPreload("slow", async (_, ct) =>
        {
            using var registration = ct.Register(() => preloadCanceled.TrySetResult());
            preloadStarted.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
        }));

        var startup = h.Coordinator.RunStartupAsync(CancellationToken.None);

        // The task runs on a thread of its own: on a loaded machine it may start well after its timeout was armed.
        await Eventually.DoneAsync(preloadStarted.Task, "preload running");

        // Never ready means nobody routes here: no delay to serve, so no time has to pass.
        await Eventually.DoneAsync(h.Coordinator.LeaveAsync(), "leaving without a delay");
        await Eventually.DoneAsync(startup, "startup");
        await Eventually.DoneAsync(preloadCanceled.Task, "the preload task saw its token fire");

        Assert.Empty(h.ExitCodes);
        Assert.True(h.Coordinator.Ready.IsCanceled);
        Assert.DoesNotContain(LifecyclePhase.Ready, h.Phases);
    }

    [Fact]
    public async Task LeaveAsync_FailsReadinessAndFiresTokenAtOnce_CompletesWhenTheDelayHasElapsed()
    {
        using var h = await ReadyHarnessAsync();

        var leave = h.Coordinator.LeaveAsync();

        Assert.Equal(LifecyclePhase.Leaving, h.Coordinator.Phase);
        Assert.True(h.Coordinator.Leaving.IsCancellationRequested);
        h.Time.Advance(Delay - TimeSpan.FromMilliseconds(1));
        Assert.False(leave.IsCompleted);

        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        await Eventually.DoneAsync(leave, "leave after the delay");
        Assert.Equal(0, h.HostLifetime.StopCalls);
    }

    [Fact]
    public async Task LeaveAsync_CalledManyTimes_SharesOneSequence()
    {
        using var h = await ReadyHarnessAsync();

        var calls = Enumerable.Range(0, 50).Select(_ => Task.Run(() => h.Coordinator.LeaveAsync())).ToArray();
        await Eventually.TrueAsync(() => h.Time.PendingTimers == 1, "one delay timer");
        Assert.All(calls, c => Assert.False(c.IsCompleted));

        h.Time.Advance(Delay);
        await Eventually.DoneAsync(Task.WhenAll(calls), "all calls");
        Assert.Single(h.Phases, p => p == LifecyclePhase.Leaving);
    }

    [Fact]
    public async Task Signal_First_StopsTheApplicationOnlyWhenTheDelayIsServed()
    {
        using var h = await ReadyHarnessAsync();

        h.Coordinator.OnSignal(PosixSignal.SIGTERM);
        Assert.Equal(LifecyclePhase.Leaving, h.Coordinator.Phase);
        await Eventually.TrueAsync(() => h.Time.PendingTimers == 2, "the delay timer and the bound on leaving");

        // ApplicationStopping (SignalR closes its connections on it) must not fire while load balancers still route here.
        h.Time.Advance(Delay - TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, h.HostLifetime.StopCalls);

        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        await Eventually.TrueAsync(() => h.HostLifetime.StopCalls == 1, "StopApplication after the delay");
        await Eventually.DoneAsync(h.Coordinator.OnHostStoppingAsync(CancellationToken.None), "stopping without a second delay");
        Assert.Equal(LifecyclePhase.Draining, h.Coordinator.Phase);
    }

    [Fact]
    public async Task Signal_HostTimeoutTheLibraryRaised_IsShortenedToWhatIsLeftOfTheBudgetAtTheStop()
    {
        using var h = LifecycleTestServices.Build(options: o =>
        {
            o.DrainTimeout = TimeSpan.FromSeconds(40);
            o.TerminationGracePeriod = TimeSpan.FromSeconds(60);
        });
        await h.Coordinator.RunStartupAsync(CancellationToken.None);
        var host = h.Services.GetRequiredService<IOptions<HostOptions>>().Value;
        Assert.Equal(TimeSpan.FromSeconds(47), host.ShutdownTimeout);

        h.Coordinator.OnSignal(PosixSignal.SIGTERM);
        await Eventually.TrueAsync(() => h.Time.PendingTimers == 2, "the delay timer and the bound on leaving");
        h.Time.Advance(Delay);
        await Eventually.TrueAsync(() => h.HostLifetime.StopCalls == 1, "StopApplication after the delay");

        // The host counts its timeout from StopApplication, after the delay: drain 40 s + margin 2 s are left.
        Assert.Equal(TimeSpan.FromSeconds(42), host.ShutdownTimeout);
    }

    [Fact]
    public async Task Signal_HostTimeoutTheApplicationSet_IsNeverLowered_EvenWhenItEqualsTheBudget()
    {
        using var h = LifecycleTestServices.Build(configure: b => b.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(17)));
        await h.Coordinator.RunStartupAsync(CancellationToken.None);
        var host = h.Services.GetRequiredService<IOptions<HostOptions>>().Value;

        h.Coordinator.OnSignal(PosixSignal.SIGTERM);
        await Eventually.TrueAsync(() => h.Time.PendingTimers == 2, "the delay timer and the bound on leaving");
        h.Time.Advance(Delay);
        await Eventually.TrueAsync(() => h.HostLifetime.StopCalls == 1, "StopApplication after the delay");

        Assert.Equal(TimeSpan.FromSeconds(17), host.ShutdownTimeout);
    }

    [Fact]
    public async Task Signal_Second_SkipsTheRestOfTheDelayAndStopsTheApplication()
    {
        using var h = await ReadyHarnessAsync();

        h.Coordinator.OnSignal(PosixSignal.SIGTERM);
        await Eventually.TrueAsync(() => h.Time.PendingTimers == 2, "the delay timer and the bound on leaving");
        h.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(0, h.HostLifetime.StopCalls);

        h.Coordinator.OnSignal(PosixSignal.SIGINT);
        await Eventually.TrueAsync(() => h.HostLifetime.StopCalls == 1, "StopApplication after the skip");
        await Eventually.DoneAsync(h.Coordinator.OnHostStoppingAsync(CancellationToken.None), "stopping after the skip");
        Assert.Equal(LifecyclePhase.Draining, h.Coordinator.Phase);
    }

    [Fact]
    public async Task HostStopping_AfterPreStop_DrainsWithoutASecondDelay()
    {
        using var h = await ReadyHarnessAsync();
        var leave = h.Coordinator.LeaveAsync();
        h.Time.Advance(Delay);
        await Eventually.DoneAsync(leave, "preStop delay");

        await Eventually.DoneAsync(h.Coordinator.OnHostStoppingAsync(CancellationToken.None), "stopping without advancing time");

        Assert.Equal(LifecyclePhase.Draining, h.Coordinator.Phase);
    }

    [Fact]
    public async Task HostStopping_WithoutLeaving_ServesTheDelayFirst()
    {
        using var h = await ReadyHarnessAsync();

        var stopping = h.Coordinator.OnHostStoppingAsync(CancellationToken.None);
        Assert.Equal(LifecyclePhase.Leaving, h.Coordinator.Phase);
        h.Time.Advance(Delay - TimeSpan.FromMilliseconds(1));
        Assert.False(stopping.IsCompleted);

        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        await Eventually.DoneAsync(stopping, "stopping after the delay");
        Assert.Equal(LifecyclePhase.Draining, h.Coordinator.Phase);
    }

    [Fact]
    public async Task Drain_AbortsRequestsStillInFlightAtTheDrainTimeout()
    {
        using var h = await ReadyHarnessAsync(o => o.ShutdownDelay = TimeSpan.Zero);
        h.Requests.Enter();
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var _ = h.Requests.AbortToken.Register(() => aborted.TrySetResult());

        await h.Coordinator.OnHostStoppingAsync(CancellationToken.None);
        h.Time.Advance(Drain - TimeSpan.FromMilliseconds(1));
        Assert.False(aborted.Task.IsCompleted);

        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(aborted.Task.IsCompleted);
    }

    [Fact]
    public async Task Drain_EndingBeforeTheTimeout_AbortsNothing()
    {
        using var h = await ReadyHarnessAsync(o => o.ShutdownDelay = TimeSpan.Zero);
        await h.Coordinator.OnHostStoppingAsync(CancellationToken.None);

        h.Coordinator.OnHostStopped();
        h.Time.Advance(Drain * 2);

        Assert.False(h.Requests.AbortToken.IsCancellationRequested);
        Assert.Equal(LifecyclePhase.Stopped, h.Coordinator.Phase);
        Assert.Equal(
            [LifecyclePhase.Preloading, LifecyclePhase.Ready, LifecyclePhase.Leaving, LifecyclePhase.Draining, LifecyclePhase.Stopped],
            h.Phases);
    }

    [Fact]
    public async Task Signal_DuringTheDrain_AbortsTheRequestsStillInFlight()
    {
        using var h = await ReadyHarnessAsync(o => o.ShutdownDelay = TimeSpan.Zero);
        h.Requests.Enter();
        h.Coordinator.OnSignal(PosixSignal.SIGTERM);
        await h.Coordinator.OnHostStoppingAsync(CancellationToken.None);
        Assert.False(h.Requests.AbortToken.IsCancellationRequested);

        h.Coordinator.OnSignal(PosixSignal.SIGINT);

        Assert.True(h.Requests.AbortToken.IsCancellationRequested);
    }

    [Fact]
    public async Task APhaseChangedHandlerThatThrows_DoesNotKeepTheHandlersAfterItFromRunning()
    {
        using var h = LifecycleTestServices.Build();
        var after = new List<LifecyclePhase>();
        h.Coordinator.PhaseChanged += (_, _) => throw new InvalidOperationException("a careless handler");
        h.Coordinator.PhaseChanged += (_, e) => after.Add(e.Current);

        await h.Coordinator.RunStartupAsync(CancellationToken.None);

        Assert.Equal([LifecyclePhase.Preloading, LifecyclePhase.Ready], after);
    }

    [Fact]
    public async Task ASlowPhaseChangedHandler_DoesNotDelayStopApplication_AtTheSignal()
    {
        using var h = await ReadyHarnessAsync();
        using var release = new ManualResetEventSlim();
        var handled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Coordinator.PhaseChanged += (_, e) =>
        {
            if (e.Current == LifecyclePhase.Leaving)
            {
                handled.TrySetResult();
                release.Wait(CancellationToken.None);
            }
        };

        try
        {
            var signal = Task.Run(() => h.Coordinator.OnSignal(PosixSignal.SIGTERM));
            await Eventually.DoneAsync(signal, "the signal handler returned");
            await Eventually.DoneAsync(handled.Task, "the handler ran");

            // The host is stopped once the delay is served, whatever the handler is doing.
            await h.Time.AdvanceUntilAsync(() => h.HostLifetime.StopCalls == 1, "StopApplication while the handler still runs");
            Assert.False(release.IsSet);
        }
        finally
        {
            release.Set();
        }
    }

    [Fact]
    public async Task PhaseChangedHandlers_SeeTheLeavingTokenFired_AndPhasesInOrder()
    {
        using var h = LifecycleTestServices.Build();
        var seen = new List<(LifecyclePhase Phase, bool LeavingFired)>();
        h.Coordinator.PhaseChanged += (_, e) => seen.Add((e.Current, h.Coordinator.Leaving.IsCancellationRequested));
        await h.Coordinator.RunStartupAsync(CancellationToken.None);

        _ = h.Coordinator.LeaveAsync();

        Assert.Equal(
            [(LifecyclePhase.Preloading, false), (LifecyclePhase.Ready, false), (LifecyclePhase.Leaving, true)],
            seen);
    }

    [Fact]
    public async Task Leaving_WhenATokenCallbackThrows_StillServesTheDelay()
    {
        using var h = await ReadyHarnessAsync();
        h.Coordinator.Leaving.Register(() => throw new InvalidOperationException("bad callback"));

        var leave = h.Coordinator.LeaveAsync();
        h.Time.Advance(Delay);

        await Eventually.DoneAsync(leave, "leave");
        Assert.Equal(LifecyclePhase.Leaving, h.Coordinator.Phase);
    }

    [Fact]
    public async Task Ready_AfterLeavingStarted_IsNeverReported()
    {
        var preload = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var h = LifecycleTestServices.Build(configure: b => b.AddPreload("ignores-token", (_, _) => preload.Task));
        var startup = h.Coordinator.RunStartupAsync(CancellationToken.None);

        _ = h.Coordinator.LeaveAsync();
        preload.SetResult();
        await Eventually.DoneAsync(startup, "startup");

        Assert.Equal(LifecyclePhase.Leaving, h.Coordinator.Phase);
        Assert.DoesNotContain(LifecyclePhase.Ready, h.Phases);
    }

    private static async Task<LifecycleTestServices> ReadyHarnessAsync(Action<GracefulLifecycleOptions>? configure = null)
    {
        var h = LifecycleTestServices.Build(options: o =>
        {
            o.ShutdownDelay = Delay;
            o.DrainTimeout = Drain;
            configure?.Invoke(o);
        });
        await h.Coordinator.RunStartupAsync(CancellationToken.None);
        Assert.Equal(LifecyclePhase.Ready, h.Coordinator.Phase);
        return h;
    }
}
