using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using GracefulLifecycle.Eureka.Tests.Infrastructure;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.TestSupport.Eureka;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace GracefulLifecycle.Eureka.Tests;

/// <summary>
/// The lifecycle with Eureka, in a host on real Kestrel and fake time against the fake Eureka server: registration
/// after preload, readiness, heartbeats, startup with Eureka unreachable and the checks made before the host starts,
/// and leaving at shutdown (readiness first, one DELETE, then silence).
/// </summary>
public sealed class EurekaLifecycleTests(ITestOutputHelper output)
{
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task NoCallBeforePreloadCompletes_ThenRegistersWithTheRealListeningPort()
    {
        await using var s = await EurekaScenario.StartAsync(holdPreload: true);
        await Eventually.TrueAsync(() => s.Host.Lifecycle.Phase == LifecyclePhase.Preloading, "preloading");

        s.Time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(503, await s.ReadinessAsync());
        Assert.Empty(s.Eureka.Calls);

        var released = Stopwatch.GetTimestamp();
        s.Preload.SetResult();
        var post = await s.CallAsync(c => c.Method == "POST", "the registration");

        Assert.True(post.ArrivedAt >= released, "the registration was sent before preload completed");
        Assert.Equal(0, post.Sequence);
        Assert.Equal("apps/ORDERS", post.Path);
        await s.SettledAsync();
        Assert.Equal(204, post.StatusCode);

        var instance = EurekaScenario.Instance(post);
        var port = s.Host.Port.ToString(CultureInfo.InvariantCulture);
        Assert.Equal(s.InstanceId, instance["instanceId"]!.GetValue<string>());
        Assert.EndsWith($":orders:{port}", instance["instanceId"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("ORDERS", instance["app"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(instance["hostName"]!.GetValue<string>()));
        Assert.False(string.IsNullOrEmpty(instance["ipAddr"]!.GetValue<string>()));
        Assert.Equal(s.Host.Port, instance["port"]!["$"]!.GetValue<int>());
        Assert.Equal("true", instance["port"]!["@enabled"]!.GetValue<string>());
        Assert.Equal("MyOwn", instance["dataCenterInfo"]!["name"]!.GetValue<string>());
        Assert.Equal(1, instance["leaseInfo"]!["renewalIntervalInSecs"]!.GetValue<int>());
        Assert.EndsWith($":{port}/ifready", instance["healthCheckUrl"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("orders", instance["vipAddress"]!.GetValue<string>());
        Assert.Equal(s.Time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture), instance["lastDirtyTimestamp"]!.GetValue<string>());
        Assert.NotNull(s.Eureka.Instance("ORDERS", s.InstanceId));
    }

    [Fact]
    public async Task Readiness_Is503UntilTheVisibilityDelayHasPassedAfterRegistration_Then200()
    {
        await using var s = await EurekaScenario.StartAsync();
        var post = await s.CallAsync(c => c.Method == "POST", "the registration");
        Assert.Equal(503, await s.ReadinessAsync());

        await s.AdvanceUntilAsync(async () => await s.ReadinessAsync() == 200, "ready");

        var waited = s.Time.GetUtcNow() - post.Time;
        Assert.InRange(waited, EurekaScenario.Propagation, EurekaScenario.Propagation + TimeSpan.FromSeconds(1));
        Assert.Equal(LifecyclePhase.Ready, s.Host.Lifecycle.Phase);
        Assert.True(s.Logs.Contains("Registered with Eureka at attempt 1; visible to its consumers after 00:00:02.5000000"));
    }

    [Fact]
    public async Task Heartbeats_EveryLeaseRenewalInterval_WithStatusUpAndTheRegistrationTimestamp()
    {
        await using var s = await EurekaScenario.StartAsync();
        var post = await s.ReadyAsync();
        var lastDirty = EurekaScenario.Instance(post)["lastDirtyTimestamp"]!.GetValue<string>();

        await s.HeartbeatsAsync(4);

        var calls = s.Eureka.Calls;
        Assert.Equal("POST", calls[0].Method);
        var heartbeats = calls.Skip(1).ToArray();
        Assert.InRange(heartbeats.Length, 4, 7);
        Assert.All(heartbeats, c =>
        {
            Assert.Equal("PUT", c.Method);
            Assert.Equal($"apps/ORDERS/{s.InstanceId}", c.Path);
            Assert.Equal($"?status=UP&lastDirtyTimestamp={lastDirty}", c.Query);
            Assert.Equal(200, c.StatusCode);
        });
        for (var i = 1; i < heartbeats.Length; i++)
        {
            Assert.InRange(heartbeats[i].Time - heartbeats[i - 1].Time, EurekaScenario.Heartbeat, EurekaScenario.Heartbeat + TimeSpan.FromSeconds(1));
        }
    }

    [Fact]
    public async Task HeartbeatAnswered404_RegistersAgainWhileStayingReady()
    {
        await using var s = await EurekaScenario.StartAsync();
        await s.ReadyAsync();
        await s.HeartbeatsAsync(1);

        Assert.True(s.Eureka.Forget(s.InstanceId));
        await s.AdvanceUntilAsync(() => s.Eureka.CallsTo("POST").Count == 2, "registered again");
        Assert.Equal(200, await s.ReadinessAsync());
        await s.AdvanceUntilAsync(() => s.Eureka.Calls[^1] is { Method: "PUT", StatusCode: 200 }, "heartbeats accepted again");

        var calls = s.Eureka.Calls;
        var lost = calls.Single(c => c.Method == "PUT" && c.StatusCode == 404);
        Assert.Equal("POST", calls[lost.Sequence + 1].Method);
        Assert.Equal(204, calls[lost.Sequence + 1].StatusCode);
        Assert.Equal(LifecyclePhase.Ready, s.Host.Lifecycle.Phase);
        Assert.NotNull(s.Eureka.Instance("ORDERS", s.InstanceId));
        Assert.True(s.Logs.Contains("Eureka no longer knows this instance; registering again"));
    }

    [Fact]
    public async Task HeartbeatAnswered404AfterTheStatusOverrideWasDeleted_RegistersAgainAndIsUpAgain()
    {
        await using var s = await EurekaScenario.StartAsync();
        await s.ReadyAsync();
        await s.HeartbeatsAsync(1);

        // An operator deletes the instance's status override: Eureka leaves its status UNKNOWN and refuses the next renewal.
        using (var admin = new HttpClient { BaseAddress = new Uri(s.Eureka.ServiceUrl) })
        {
            using var response = await admin.DeleteAsync(new Uri($"apps/ORDERS/{s.InstanceId}/status", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await s.AdvanceUntilAsync(() => s.Eureka.CallsTo("POST").Count == 2, "registered again");
        await s.AdvanceUntilAsync(() => s.Eureka.Calls[^1] is { Method: "PUT", StatusCode: 200 }, "heartbeats accepted again");

        var calls = s.Eureka.Calls;
        var refused = calls.Single(c => c.Method == "PUT" && c.StatusCode == 404);
        Assert.Equal("DELETE", calls[refused.Sequence - 1].Method);
        Assert.Equal($"POST apps/ORDERS -> 204", calls[refused.Sequence + 1].ToString());
        Assert.Equal(200, await s.ReadinessAsync());
        Assert.Equal(LifecyclePhase.Ready, s.Host.Lifecycle.Phase);
        using var client = new HttpClient { BaseAddress = new Uri(s.Eureka.ServiceUrl) };
        var served = JsonNode.Parse(await client.GetStringAsync(new Uri($"apps/ORDERS/{s.InstanceId}", UriKind.Relative)))!["instance"]!;
        Assert.Equal("UP", served["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Configuration_OverridesTheCodeOptions()
    {
        await using var s = await EurekaScenario.StartAsync(settings: new Dictionary<string, string?>
        {
            ["GracefulLifecycle:Eureka:AppName"] = "billing",
            ["GracefulLifecycle:Eureka:Metadata:zone"] = "eu-1",
        });

        var post = await s.CallAsync(c => c.Method == "POST", "the registration");

        Assert.Equal("apps/BILLING", post.Path);
        Assert.Equal("eu-1", EurekaScenario.Instance(post)["metadata"]!["zone"]!.GetValue<string>());
    }

    [Fact]
    public async Task Failover_FirstServiceUrlRefusesConnections_RegistersOnTheSecondAndStaysThere()
    {
        var closed = $"http://127.0.0.1:{Ports.Closed()}/eureka/";
        await using var s = await EurekaScenario.StartAsync(eureka: o => o.ServiceUrl = $"{closed},{o.ServiceUrl}");

        await s.ReadyAsync();
        await s.HeartbeatsAsync(3);

        Assert.Equal("POST", s.Eureka.Calls[0].Method);
        Assert.All(s.Eureka.Calls.Skip(1), c => Assert.Equal("PUT 200", $"{c.Method} {c.StatusCode}"));
        var failovers = s.Logs.Lines.Where(l => l.Contains("EurekaRegistry[100]", StringComparison.Ordinal)).ToArray();
        Assert.Contains(closed, Assert.Single(failovers), StringComparison.Ordinal);
        Assert.DoesNotContain(s.Logs.Lines, l => l.Contains("Registration with Eureka failed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EurekaDownAtStartup_ReadyAfterTheStartupTimeout_AndRegistersOnceEurekaIsBack()
    {
        var port = Ports.Closed();
        await using var s = await EurekaScenario.StartAsync(
            serviceUrl: $"http://127.0.0.1:{port}/eureka/",
            lifecycle: o =>
            {
                o.Registration.StartupTimeout = StartupTimeout;
                o.Registration.RetryMaxDelay = TimeSpan.FromSeconds(2);
            });
        var started = s.Time.GetUtcNow();
        Assert.Equal(503, await s.ReadinessAsync());

        await s.AdvanceUntilAsync(async () => await s.ReadinessAsync() == 200, "ready without Eureka", TimeSpan.FromMilliseconds(250));

        Assert.InRange(s.Time.GetUtcNow() - started, StartupTimeout, StartupTimeout + TimeSpan.FromSeconds(1));
        Assert.True(s.Logs.Contains("Not registered with Eureka after 00:00:03; reporting ready anyway"));
        Assert.True(s.Logs.Contains("Registration with Eureka failed (attempt 2)"));

        await s.StartEurekaAsync(port);
        await s.AdvanceUntilAsync(() => s.Eureka.CallsTo("POST").Count == 1, "registered once Eureka is back", TimeSpan.FromMilliseconds(250));
        await s.HeartbeatsAsync(1);

        Assert.Equal(200, await s.ReadinessAsync());
        Assert.Equal(["POST 204", "PUT 200"], s.Eureka.Calls.Select(c => $"{c.Method} {c.StatusCode}"));
    }

    [Fact]
    public async Task EurekaDownAtStartup_RegistrationRequired_StaysUnreadyUntilRegisteredAndVisible()
    {
        var port = Ports.Closed();
        await using var s = await EurekaScenario.StartAsync(
            serviceUrl: $"http://127.0.0.1:{port}/eureka/",
            lifecycle: o =>
            {
                o.Registration.StartupTimeout = StartupTimeout;
                o.Registration.RetryMaxDelay = TimeSpan.FromSeconds(2);
            },
            settings: new Dictionary<string, string?> { ["GracefulLifecycle:Registration:Required"] = "true" });

        for (var i = 0; i < 40; i++)
        {
            s.Time.Advance(TimeSpan.FromMilliseconds(250));
            Assert.Equal(503, await s.ReadinessAsync());
        }

        Assert.Equal(LifecyclePhase.Registering, s.Host.Lifecycle.Phase);
        Assert.False(s.Logs.Contains("reporting ready anyway"));

        await s.StartEurekaAsync(port);
        await s.AdvanceUntilAsync(() => s.Eureka.Calls.Count > 0, "registered once Eureka is back", TimeSpan.FromMilliseconds(250));
        var post = s.Eureka.Calls[0];
        Assert.Equal(503, await s.ReadinessAsync());
        await s.AdvanceUntilAsync(async () => await s.ReadinessAsync() == 200, "ready");

        Assert.True(s.Time.GetUtcNow() - post.Time >= EurekaScenario.Propagation, "ready before consumers could see the instance");
    }

    [Fact]
    public async Task EurekaDefaults_FailStartup_NamingEachTermTheGracePeriodNeededAndTheConsumerSettings()
    {
        // 30 s server cache + 30 s consumers' fetch + 35 s Spring Cloud LoadBalancer cache + 1 s margin = 96 s:
        // with the test host's 10 s drain, 2 + 96 + 10 + 2 = 110 s, far more than the default 30 s grace period.
        var error = await Assert.ThrowsAnyAsync<Exception>(() => LifecycleTestHost.StartAsync(
            configure: b => b.AddEureka(o => o.ServiceUrl = "http://127.0.0.1:1/eureka/")));

        Assert.Contains(
            "GracefulLifecycle:Registration:DeregistrationTimeout (00:00:02) + the shutdown delay (00:01:36, raised from GracefulLifecycle:ShutdownDelay 00:00:05 by the " +
            "propagation delay of Eureka: registry cache 00:00:30 (GracefulLifecycle:Eureka:ResponseCacheUpdateIntervalMs) + consumer refresh 00:00:30 " +
            "(GracefulLifecycle:Eureka:RegistryFetchIntervalSeconds) + load-balancer cache 00:00:35 (GracefulLifecycle:Eureka:LoadBalancerCacheTtl, set by " +
            "GracefulLifecycle:Eureka:ConsumerProfile SpringCloudLoadBalancer) + margin 00:00:01 (GracefulLifecycle:Eureka:PropagationMargin)) + " +
            "GracefulLifecycle:DrainTimeout (00:00:10) + GracefulLifecycle:ShutdownMargin (00:00:02) = 00:01:50 exceeds GracefulLifecycle:TerminationGracePeriod " +
            "(00:00:30): the orchestrator would kill the process before the drain ends. Raise GracefulLifecycle:TerminationGracePeriod to at least 00:01:50 (and " +
            "terminationGracePeriodSeconds with it), or shorten the drain; or, if the consumers of Eureka refresh or cache for less than that, declare them in the " +
            "settings those terms come from: GracefulLifecycle:Eureka:RegistryFetchIntervalSeconds; GracefulLifecycle:Eureka:LoadBalancerCacheTtl, set by " +
            "GracefulLifecycle:Eureka:ConsumerProfile SpringCloudLoadBalancer.",
            Errors.AllMessages(error),
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartupLog_NamesEachTermOfThePropagationDelay_AndItsSource()
    {
        await using var s = await EurekaScenario.StartAsync(
            eureka: o => o.ConsumerProfile = EurekaConsumerProfile.Ribbon,
            lifecycle: o => o.ShutdownDelay = TimeSpan.FromSeconds(1),
            settings: new Dictionary<string, string?> { ["GracefulLifecycle:Eureka:LoadBalancerCacheTtl"] = "00:00:02" });

        var expected =
            "Shutdown delay 00:00:04.5000000 set by the propagation delay of Eureka: registry cache 00:00:01 (GracefulLifecycle:Eureka:ResponseCacheUpdateIntervalMs) + " +
            "consumer refresh 00:00:01 (GracefulLifecycle:Eureka:RegistryFetchIntervalSeconds) + load-balancer cache 00:00:02 (GracefulLifecycle:Eureka:LoadBalancerCacheTtl) + " +
            "margin 00:00:00.5000000 (GracefulLifecycle:Eureka:PropagationMargin) (configured 00:00:01)";
        Assert.Single(s.Logs.Lines, l => l.EndsWith("[29] " + expected, StringComparison.Ordinal));
    }

    [Fact]
    public async Task InvalidServiceUrl_FailsStartup_NamingTheKey()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => LifecycleTestHost.StartAsync(
            configure: b => b.AddEureka(EurekaScenario.FastEureka),
            settings: new Dictionary<string, string?> { ["GracefulLifecycle:Eureka:ServiceUrl"] = "eureka:8761" }));

        Assert.Contains("GracefulLifecycle:Eureka:ServiceUrl contains 'eureka:8761', which is not an absolute http(s) URL", Errors.AllMessages(error), StringComparison.Ordinal);
    }

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
        Assert.True(s.Logs.Contains("Shutdown delay 00:00:02.5000000 set by the propagation delay of Eureka: "));
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
