using System.Net;
using System.Text.Json;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.TestSupport.Consul;
using GracefulLifecycle.TestSupport.Eureka;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.Consul.Tests;

/// <summary>
/// Consul and Eureka on one instance, on one fake clock shared by the instance, the Consul agent's checks and reaper,
/// and Eureka's cache. Readiness waits for Eureka's consumers (95 s) after both accepted the registration: readiness
/// answers 503 all that time, longer than Consul's reaper allows a reaping check to stay critical.
/// </summary>
public sealed class ConsulWithEurekaTests
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
                .AddConsul(o =>
                {
                    o.Address = consul.Address.ToString();
                    o.ServiceName = "orders";
                    o.ServiceId = "orders-1";
                    o.ServiceAddress = "127.0.0.1";
                    o.CheckInterval = CheckInterval;
                    o.RequestTimeout = TimeSpan.FromMinutes(10);
                }),
            options: o => o.TerminationGracePeriod = TimeSpan.FromHours(1),

            // Fake time runs ahead of real I/O when the test moves it: bounds on calls are set wide (in fake time).
            settings: new Dictionary<string, string?> { ["GracefulLifecycle:Registration:DeregistrationTimeout"] = "00:10:00" },
            time: time);

        await consul.WaitForAnsweredCallAsync(c => c.IsRegister, "the registration with Consul");
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

    private static async Task<JsonElement[]> PassingAsync(FakeConsulAgent agent)
    {
        using var client = new HttpClient();
        using var response = await client.GetAsync(new Uri(agent.Address, "v1/health/service/orders?passing"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.EnumerateArray().Select(e => e.Clone()).ToArray();
    }
}
