using System.Diagnostics;
using GracefulLifecycle.Eureka.Tests.Infrastructure;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.TestSupport.Eureka;
using Xunit.Abstractions;

namespace GracefulLifecycle.Eureka.Tests.Lifecycle;

/// <summary>Leaving Eureka at shutdown: readiness first, one DELETE, then silence.</summary>
public sealed class LeavingTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Stop_ReadinessFailsFirst_ThenDeleteIsTheOnlyCallAfterLeavingStarts_AndNothingFollowsIt()
    {
        await using var s = await EurekaScenario.StartAsync();
        await s.ReadyAsync();
        await s.HeartbeatsAsync(2);

        var readinessWhenDeleteArrived = 0;
        s.Eureka.OnCall = async call =>
        {
            if (call.Method == "DELETE")
            {
                readinessWhenDeleteArrived = await s.ReadinessAsync();
            }
        };
        var callsWhenLeavingStarted = -1;
        s.Host.Lifecycle.PhaseChanged += (_, e) =>
        {
            if (e.Current == LifecyclePhase.Leaving)
            {
                callsWhenLeavingStarted = s.Eureka.Calls.Count;
            }
        };

        await Eventually.DoneAsync(s.Host.StopAsync(), "the host stops");

        // Fake time went on through the shutdown delay: several heartbeat intervals passed after the DELETE.
        var calls = s.Eureka.Calls;
        var delete = calls[^1];
        Assert.True(s.Time.GetUtcNow() - delete.Time >= 3 * EurekaScenario.Heartbeat, "less than three heartbeat intervals passed after the DELETE");
        s.Time.Advance(5 * EurekaScenario.Heartbeat);

        Assert.Equal(503, readinessWhenDeleteArrived);
        Assert.Equal(calls.Count - 1, callsWhenLeavingStarted);
        Assert.Equal($"DELETE apps/ORDERS/{s.InstanceId} -> 200", delete.ToString());
        Assert.Equal("POST", calls[0].Method);
        Assert.All(calls.Skip(1).SkipLast(1), c => Assert.Equal("PUT 200", $"{c.Method} {c.StatusCode}"));
        Assert.Equal(calls.Count, s.Eureka.Calls.Count);
        Assert.Equal(0, s.Eureka.InstanceCount);
        Assert.True(s.Logs.Contains("Deregistered from Eureka"));
    }

    [Fact]
    public async Task LeaveWithoutStopping_NoCallFollowsTheDelete_EvenAfterSeveralHeartbeatIntervals()
    {
        await using var s = await EurekaScenario.StartAsync();
        await s.ReadyAsync();
        await s.HeartbeatsAsync(1);

        var leave = s.Host.Lifecycle.LeaveAsync();
        var delete = await s.CallAsync(c => c.Method == "DELETE", "the DELETE");
        await s.AdvanceUntilAsync(() => leave.IsCompleted, "the shutdown delay ends", TimeSpan.FromMilliseconds(250));
        await s.AdvanceUntilAsync(() => s.Time.GetUtcNow() - delete.Time >= 10 * EurekaScenario.Heartbeat, "ten heartbeat intervals after the DELETE", TimeSpan.FromMilliseconds(250));
        await s.SettledAsync();

        Assert.Equal(LifecyclePhase.Leaving, s.Host.Lifecycle.Phase);
        Assert.Equal(503, await s.ReadinessAsync());
        Assert.Equal(delete, s.Eureka.Calls[^1]);
        Assert.Equal(1, delete.Sequence - s.Eureka.Calls.Count(c => c.Method == "PUT"));
        Assert.Single(s.Eureka.Calls, c => c.Method == "POST");

        await Eventually.DoneAsync(s.Host.StopAsync(), "the host stops");
        Assert.Equal(delete, s.Eureka.Calls[^1]);
    }

    [Fact]
    public async Task Stop_DeleteAnswered404BecauseAlreadyEvicted_IsToleratedAndNotFollowedByARegistration()
    {
        await using var s = await EurekaScenario.StartAsync();
        await s.ReadyAsync();
        await s.HeartbeatsAsync(1);
        Assert.True(s.Eureka.Forget(s.InstanceId));

        await Eventually.DoneAsync(s.Host.StopAsync(), "the host stops");

        var calls = s.Eureka.Calls;
        Assert.Equal($"DELETE apps/ORDERS/{s.InstanceId} -> 404", calls[^1].ToString());
        Assert.Single(calls, c => c.Method == "POST");
        Assert.Equal(0, s.Eureka.InstanceCount);
        Assert.True(s.Logs.Contains("EurekaRegistry[101]"));
        Assert.True(s.Logs.Contains("Deregistered from Eureka"));
        Assert.False(s.Logs.Contains("Deregistration from Eureka failed"));
    }

    [Fact]
    public async Task Stop_EurekaStoppedBeforeShutdown_DoesNotHang_AndLogsTheFailedDeregistration()
    {
        await using var s = await EurekaScenario.StartAsync();
        await s.ReadyAsync();
        await s.Eureka.StopAsync();

        await Eventually.DoneAsync(s.Host.StopAsync(), "the host stops although Eureka is gone", TimeSpan.FromSeconds(20));

        Assert.Contains(s.Logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("Deregistration from Eureka failed", StringComparison.Ordinal));
        Assert.Equal(LifecyclePhase.Stopped, s.Host.Lifecycle.Phase);
    }

    [Fact]
    public async Task Stop_EurekaHoldsTheDelete_ShutdownGoesOnAfterTheDeregistrationTimeout()
    {
        await using var s = await EurekaScenario.StartAsync(lifecycle: o => o.Registration.DeregistrationTimeout = TimeSpan.FromSeconds(2));
        await s.ReadyAsync();
        using var hold = s.Eureka.Hold();

        await Eventually.DoneAsync(s.Host.StopAsync(), "the host stops although the DELETE is never answered", TimeSpan.FromSeconds(20));

        Assert.Equal("DELETE", s.Eureka.Calls[^1].Method);
        Assert.Contains(s.Logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("Deregistration from Eureka did not finish within 00:00:02", StringComparison.Ordinal));
        Assert.Equal(LifecyclePhase.Stopped, s.Host.Lifecycle.Phase);
    }

    [Fact]
    public async Task Stop_FirstServerHoldsTheDelete_FailoverReachesTheSecondWithinTheDeregistrationBudget()
    {
        // RequestTimeout 5 s against a 2 s budget: without a share per server the first one uses it all up.
        await using var second = await FakeEurekaServer.StartAsync(TimeProvider.System, TimeSpan.FromSeconds(1));
        await using var s = await EurekaScenario.StartAsync(
            eureka: o =>
            {
                o.ServiceUrl = $"{o.ServiceUrl},{second.ServiceUrl}";
                o.RequestTimeout = TimeSpan.FromSeconds(5);
            },
            lifecycle: o => o.Registration.DeregistrationTimeout = TimeSpan.FromSeconds(2));
        await s.ReadyAsync();
        using var hold = s.Eureka.Hold();

        await Eventually.DoneAsync(s.Host.StopAsync(), "the host stops", TimeSpan.FromSeconds(20));

        Assert.Contains(second.Calls, c => c.Method == "DELETE");
        Assert.DoesNotContain(s.Logs.Lines, l => l.Contains("did not finish within", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ShutdownDelay_IsRaisedToThePropagationDelay_CountedFromTheDelete()
    {
        await using var s = await EurekaScenario.StartAsync(lifecycle: o => o.ShutdownDelay = TimeSpan.FromSeconds(1));
        Assert.True(s.Logs.Contains("Shutdown delay 00:00:02.5000000 set by the propagation delay of Eureka (configured 00:00:01)"));
        await s.ReadyAsync();
        DateTimeOffset? drainStarted = null;
        s.Host.Lifecycle.PhaseChanged += (_, e) =>
        {
            if (e.Current == LifecyclePhase.Draining)
            {
                drainStarted = s.Time.GetUtcNow();
            }
        };

        await Eventually.DoneAsync(s.Host.StopAsync(), "the host stops");

        var delete = s.Eureka.Calls[^1];
        Assert.Equal("DELETE", delete.Method);
        Assert.NotNull(drainStarted);
        Assert.True(drainStarted - delete.Time >= EurekaScenario.Propagation, $"the drain started {drainStarted - delete.Time} after the DELETE");
    }

    [Fact]
    public async Task Measure_LeavingToDeleteReceived()
    {
        await using var s = await EurekaScenario.StartAsync();
        await s.ReadyAsync();
        await s.HeartbeatsAsync(1);

        var leaving = Stopwatch.GetTimestamp();
        var stop = s.Host.StopAsync();
        var delete = await s.CallAsync(c => c.Method == "DELETE", "the DELETE");
        await Eventually.DoneAsync(stop, "the host stops");

        var elapsed = Stopwatch.GetElapsedTime(leaving, delete.ArrivedAt);
        Measurements.Record(output.WriteLine, "Eureka: leaving -> DELETE received", elapsed.TotalMilliseconds);
        Assert.InRange(elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(2));
    }
}
