using System.Net;
using System.Text.Json;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.TestSupport.Consul;
using GracefulLifecycle.TestSupport.Eureka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GracefulLifecycle.Consul.Tests;

/// <summary>
/// Consul's reaper against an instance that is alive but answers readiness 503 for minutes while registered, on one
/// fake clock shared by the instance and the Consul agent's checks and reaper: Consul consumers must stop seeing it
/// as passing, and the agent must never remove it (it would come back at the next renewal, and vanish again).
/// </summary>
public sealed class ConsulReaperTests
{
    private static readonly TimeSpan EurekaVisibility = TimeSpan.FromSeconds(95);
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task LongEurekaVisibilityWait_ConsulNeverReapsTheInstance_AndLeavingTakesItOutOfThePassingListAtOnce()
    {
        var time = new FakeTimeProvider();
        await using var eureka = await FakeEurekaServer.StartAsync(time);
        await using var consul = await FakeConsulAgent.StartAsync(time: time);
        await using var host = await LifecycleTestHost.StartAsync(
            configure: b => b
                .AddEureka(o =>
                {
                    o.ServiceUrl = eureka.ServiceUrl;
                    o.AppName = "orders";
                    o.VisibilityDelay = EurekaVisibility;
                    o.RequestTimeout = TimeSpan.FromMinutes(10);
                })
                .AddConsul(o => OnAgent(o, consul)),
            options: o => o.TerminationGracePeriod = TimeSpan.FromHours(1),

            // Fake time runs ahead of real I/O when the test moves it: bounds on calls are set wide (in fake time).
            settings: new Dictionary<string, string?> { ["GracefulLifecycle:Registration:DeregistrationTimeout"] = "00:10:00" },
            time: time);

        // Both accepted it before the clock moves: a registration still in flight would let the startup timeout end the wait.
        await Eventually.TrueAsync(
            () => host.Logs.Contains("Registered with Consul at attempt") && host.Logs.Contains("Registered with Eureka at attempt"), "both registrations to be accepted");
        Assert.Equal(LifecyclePhase.Registering, host.Lifecycle.Phase);

        // Second by second through the visibility wait and well past it: the agent checks and reaps on this clock.
        var longestCritical = TimeSpan.Zero;
        var readyAt = (TimeSpan?)null;
        var start = time.GetUtcNow();
        for (var second = 1; second <= 180; second++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await consul.ChecksCompletedAsync();
            var service = consul.Service("orders-1");
            Assert.True(service is not null, $"Consul no longer lists the instance {second} s after it registered; reaped: {string.Join(", ", consul.Reaped)}");
            if (service.Checks[0].CriticalSince is { } since && time.GetUtcNow() - since > longestCritical)
            {
                longestCritical = time.GetUtcNow() - since;
            }

            if (readyAt is null && host.Lifecycle.Phase == LifecyclePhase.Ready)
            {
                readyAt = time.GetUtcNow() - start;
            }
        }

        var registered = consul.Service("orders-1")!;
        Assert.NotNull(readyAt);
        Assert.InRange(readyAt.Value, EurekaVisibility, EurekaVisibility + TimeSpan.FromSeconds(5));

        // The readiness check was critical through the whole wait: with a reap timeout on it, a reaper pass (every
        // 30 s) would have found it critical for longer than the one minute and removed the instance.
        Assert.True(longestCritical > TimeSpan.FromSeconds(90), $"the readiness check was critical for {longestCritical} at most");
        Assert.Empty(consul.Reaped);
        Assert.Single(consul.Calls, c => c.IsRegister);
        Assert.Equal(["passing", "passing"], registered.Checks.Select(c => c.Status));
        Assert.Single(await PassingAsync(consul));

        // Leaving: readiness fails at once, so the next check is critical even before the deregistration is answered.
        var hold = consul.Hold(c => c.IsDeregister);
        var leave = host.Lifecycle.LeaveAsync();
        Assert.True(await consul.WaitForCallsAsync(calls => calls.Any(c => c.IsDeregister), TimeSpan.FromSeconds(10)), "the deregistration to arrive");
        time.Advance(CheckInterval);
        await consul.ChecksCompletedAsync();
        var passingWhileHeld = await PassingAsync(consul);
        var readinessWhileHeld = registered.Checks[0].Status;
        hold.Dispose();
        var deregistration = await consul.WaitForAnsweredCallAsync(c => c.IsDeregister, "the deregistration to be answered");
        var passingAfter = await PassingAsync(consul);

        Assert.Equal("critical", readinessWhileHeld);
        Assert.Empty(passingWhileHeld);
        Assert.Equal(200, deregistration.StatusCode);
        Assert.Null(consul.Service("orders-1"));
        Assert.Empty(passingAfter);
        await host.AdvanceUntilAsync(() => leave.IsCompleted, "LeaveAsync to complete");
    }

    [Fact]
    public async Task DependencyDownForMinutes_LeavesThePassingList_IsNeverReaped_AndComesBackWhenItRecovers()
    {
        var dependencyUp = true;
        var time = new FakeTimeProvider();
        await using var consul = await FakeConsulAgent.StartAsync(time: time);
        await using var host = await LifecycleTestHost.StartAsync(
            configure: b => b.AddConsul(o =>
            {
                OnAgent(o, consul);

                // Consumers that follow the checks: readiness then waits for no cache, and the outage is all the test moves time for.
                o.ConsumerProfile = ConsulConsumerProfile.Immediate;
            }),
            services: s => s.AddHealthChecks().AddCheck(
                "database", () => dependencyUp ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("down"), tags: ["ready"]),
            options: o => o.TerminationGracePeriod = TimeSpan.FromHours(1),
            settings: new Dictionary<string, string?> { ["GracefulLifecycle:Registration:DeregistrationTimeout"] = "00:10:00" },
            time: time);
        await Eventually.DoneAsync(host.Lifecycle.Ready, "the instance to become ready");
        await AdvanceAsync(time, consul, TimeSpan.FromSeconds(5));
        var passingBefore = await PassingAsync(consul);

        dependencyUp = false;
        await AdvanceAsync(time, consul, CheckInterval);
        var passingDuringOutage = await PassingAsync(consul);
        await AdvanceAsync(time, consul, TimeSpan.FromMinutes(5));
        var criticalFor = time.GetUtcNow() - consul.Service("orders-1")?.Checks[0].CriticalSince;
        dependencyUp = true;
        await AdvanceAsync(time, consul, CheckInterval);

        Assert.Single(passingBefore);
        Assert.Empty(passingDuringOutage);
        Assert.True(criticalFor >= TimeSpan.FromMinutes(5), $"the readiness check was critical for {criticalFor} after 5 minutes of outage");
        Assert.Empty(consul.Reaped);
        Assert.Single(consul.Calls, c => c.IsRegister);
        Assert.Single(await PassingAsync(consul));
        Assert.Equal(LifecyclePhase.Ready, host.Lifecycle.Phase);
    }

    /// <summary>Registers as orders-1 with <paramref name="agent"/>, checked every <see cref="CheckInterval"/>, calls bounded wide (in fake time).</summary>
    private static void OnAgent(ConsulOptions o, FakeConsulAgent agent)
    {
        o.Address = agent.Address.ToString();
        o.ServiceName = "orders";
        o.ServiceId = "orders-1";
        o.ServiceAddress = "127.0.0.1";
        o.CheckInterval = CheckInterval;
        o.RequestTimeout = TimeSpan.FromMinutes(10);
    }

    /// <summary>Moves the shared clock second by second, letting the agent's checks each step started finish.</summary>
    private static async Task AdvanceAsync(FakeTimeProvider time, FakeConsulAgent agent, TimeSpan by)
    {
        for (var moved = TimeSpan.Zero; moved < by; moved += TimeSpan.FromSeconds(1))
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await agent.ChecksCompletedAsync();
        }
    }

    private static async Task<JsonElement[]> PassingAsync(FakeConsulAgent agent)
    {
        using var client = new HttpClient();
        using var response = await client.GetAsync(new Uri(agent.Address, "v1/health/service/orders?passing"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.EnumerateArray().Select(e => e.Clone()).ToArray();
    }
}
