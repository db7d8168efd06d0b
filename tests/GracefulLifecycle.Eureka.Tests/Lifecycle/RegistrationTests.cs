using System.Diagnostics;
using System.Globalization;
using GracefulLifecycle.Eureka.Tests.Infrastructure;
using GracefulLifecycle.TestSupport;

namespace GracefulLifecycle.Eureka.Tests.Lifecycle;

/// <summary>Registration driven by the lifecycle, on real Kestrel and fake time, against the fake Eureka server.</summary>
public sealed class RegistrationTests
{
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
        Assert.True(s.Logs.Contains("Registered with Eureka after 1 attempts; visible to its consumers after 00:00:02.5000000"));
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
    public async Task ConfigurationOverridesTheCodeOptions()
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
}
