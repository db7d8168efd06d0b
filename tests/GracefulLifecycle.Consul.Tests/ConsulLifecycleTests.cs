using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.TestSupport.Consul;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace GracefulLifecycle.Consul.Tests;

/// <summary>
/// The whole lifecycle on real Kestrel and fake time, registered with the fake agent: when each call is made,
/// what it carries, what Consul's check sees at each phase, and how long after leaving starts the deregistration
/// arrives (wall clock).
/// </summary>
public sealed class ConsulLifecycleTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string AclToken = "s3cret";
    private static readonly TimeSpan RenewalInterval = TimeSpan.FromSeconds(5);
    private FakeConsulAgent _agent = null!;

    public async Task InitializeAsync() => _agent = await FakeConsulAgent.StartAsync(AclToken);

    public async Task DisposeAsync() => await _agent.DisposeAsync();

    [Fact]
    public async Task NoCallBeforePreloadCompletes_ThenTheRegistrationCarriesTheInstanceAndItsReadinessAndLivenessChecks()
    {
        var preloading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await StartHostAsync(
            _agent,
            consul: o =>
            {
                o.Tags.Add("blue");
                o.Tags.Add("http");
                o.Metadata["version"] = "2.1";
                o.CheckInterval = TimeSpan.FromSeconds(3);
                o.CheckTimeout = TimeSpan.FromMilliseconds(500);
                o.DeregisterCriticalServiceAfter = TimeSpan.FromSeconds(90);
            },
            more: b => b.AddPreload("warm-up", async (_, ct) =>
            {
                preloading.TrySetResult();
                await release.Task.WaitAsync(ct);
            }),
            options: o => o.ReadinessPath = "/healthz/ready");

        await Eventually.DoneAsync(preloading.Task, "the preload task to start");
        Assert.Equal(LifecyclePhase.Preloading, host.Lifecycle.Phase);
        Assert.Empty(_agent.Calls);

        release.SetResult();
        var register = await _agent.WaitForAnsweredCallAsync(c => c.IsRegister, "the registration");
        await Eventually.DoneAsync(host.Lifecycle.Ready, "the instance to become ready");

        Assert.Equal(200, register.StatusCode);
        Assert.Equal(AclToken, register.Token);
        Assert.Equal("?replace-existing-checks=true", register.Query);
        var body = register.Json();
        Assert.Equal(ServiceId(host), body.GetProperty("ID").GetString());
        Assert.Equal("orders", body.GetProperty("Name").GetString());
        Assert.Equal("127.0.0.1", body.GetProperty("Address").GetString());
        Assert.Equal(host.Port, body.GetProperty("Port").GetInt32());
        Assert.Equal(["blue", "http"], body.GetProperty("Tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("2.1", body.GetProperty("Meta").GetProperty("version").GetString());
        var checks = body.GetProperty("Checks").EnumerateArray().ToArray();
        Assert.Equal(2, checks.Length);
        var (readiness, liveness) = (checks[0], checks[1]);
        Assert.Equal($"http://127.0.0.1:{host.Port}/healthz/ready", readiness.GetProperty("HTTP").GetString());
        Assert.Equal($"http://127.0.0.1:{host.Port}/health", liveness.GetProperty("HTTP").GetString());
        Assert.All(checks, check =>
        {
            Assert.Equal("GET", check.GetProperty("Method").GetString());
            Assert.Equal("3s", check.GetProperty("Interval").GetString());
            Assert.Equal("500ms", check.GetProperty("Timeout").GetString());
        });
        Assert.False(readiness.TryGetProperty("DeregisterCriticalServiceAfter", out _));
        Assert.Equal("90s", liveness.GetProperty("DeregisterCriticalServiceAfter").GetString());
        Assert.Equal(TimeSpan.FromSeconds(90), _agent.Service(ServiceId(host))!.DeregisterCriticalServiceAfter);
        Assert.True(host.Logs.Contains($"Registering service orders as {ServiceId(host)} at 127.0.0.1:{host.Port}"));
    }

    [Fact]
    public async Task Registration_WithoutSettings_UsesTheApplicationNameTheInstanceAddressAndTheListeningPort()
    {
        await using var host = await LifecycleTestHost.StartAsync(
            configure: b => b.AddConsul(o =>
            {
                o.Address = _agent.Address.ToString();
                o.Token = AclToken;

                // Spring Cloud consumers (the default) need a longer grace period than the test host's 30 s.
                o.ConsumerProfile = ConsulConsumerProfile.Immediate;
            }),
            settings: Settings(null));

        var register = await _agent.WaitForAnsweredCallAsync(c => c.IsRegister, "the registration");

        var name = host.Services.GetRequiredService<IHostEnvironment>().ApplicationName;
        var body = register.Json();
        var address = body.GetProperty("Address").GetString()!;
        Assert.Equal(200, register.StatusCode);
        Assert.Equal(name, body.GetProperty("Name").GetString());
        Assert.Equal($"{name}-{Dns.GetHostName()}-{host.Port}", body.GetProperty("ID").GetString());
        Assert.True(IPAddress.TryParse(address, out var ip) && ip.AddressFamily == AddressFamily.InterNetwork, address);
        Assert.Equal(host.Port, body.GetProperty("Port").GetInt32());
        Assert.Empty(body.GetProperty("Tags").EnumerateArray());
        var checks = body.GetProperty("Checks").EnumerateArray().ToArray();
        Assert.Equal([$"http://{address}:{host.Port}/ifready", $"http://{address}:{host.Port}/health"], checks.Select(c => c.GetProperty("HTTP").GetString()));
        Assert.All(checks, c => Assert.Equal("2s", c.GetProperty("Interval").GetString()));
        Assert.All(checks, c => Assert.Equal("1s", c.GetProperty("Timeout").GetString()));
        Assert.Equal("60s", checks[1].GetProperty("DeregisterCriticalServiceAfter").GetString());
    }

    [Fact]
    public async Task Configuration_OverridesTheCodeOptions()
    {
        await using var host = await StartHostAsync(
            _agent,
            consul: o => o.ServiceName = "from-code",
            settings: new Dictionary<string, string?>
            {
                ["GracefulLifecycle:Consul:ServiceName"] = "from-config",
                ["GracefulLifecycle:Consul:ServiceId"] = "orders-7",
            });

        var register = await _agent.WaitForAnsweredCallAsync(c => c.IsRegister, "the registration");

        Assert.Equal("from-config", register.Json().GetProperty("Name").GetString());
        Assert.Equal("orders-7", register.Json().GetProperty("ID").GetString());
    }

    [Fact]
    public async Task InvalidOption_FailsStartup_NamingTheKey()
    {
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => StartHostAsync(
            _agent,
            settings: new Dictionary<string, string?> { ["GracefulLifecycle:Consul:DeregisterCriticalServiceAfter"] = "-00:00:30" }));

        Assert.Contains("GracefulLifecycle:Consul:DeregisterCriticalServiceAfter must not be negative (was -00:00:30)", ex.Message, StringComparison.Ordinal);
        Assert.Empty(_agent.Calls);
    }

    [Fact]
    public async Task Check_IsCriticalUntilReady_AndPassingOnceReady()
    {
        await using var host = await StartHostAsync(_agent, consul: o => o.VisibilityDelay = TimeSpan.FromSeconds(2));
        var id = ServiceId(host);

        await _agent.WaitForAnsweredCallAsync(c => c.IsRegister, "the registration");
        Assert.Equal(LifecyclePhase.Registering, host.Lifecycle.Phase);
        var whileRegistering = await _agent.RunChecksAsync();
        var passingWhileRegistering = await HealthAsync(passingOnly: true);

        await host.AdvanceUntilAsync(() => host.Lifecycle.Phase == LifecyclePhase.Ready, "ready once the visibility delay has passed");
        var onceReady = await _agent.RunChecksAsync();
        var passingOnceReady = await HealthAsync(passingOnly: true);

        Assert.Equal("critical", whileRegistering[id]);
        Assert.Empty(passingWhileRegistering);
        Assert.Equal("passing", onceReady[id]);
        var entry = Assert.Single(passingOnceReady);
        Assert.Equal(id, entry.GetProperty("Service").GetProperty("ID").GetString());
        Assert.Equal(host.Port, entry.GetProperty("Service").GetProperty("Port").GetInt32());
        Assert.True(host.Logs.Contains("Registered with Consul at attempt 1; visible to its consumers after 00:00:02"));
    }

    [Fact]
    public async Task Leave_TheCheckTurnsCritical_AndTheDeregistrationIsTheLastCall()
    {
        await using var host = await StartHostAsync(_agent);
        await Eventually.DoneAsync(host.Lifecycle.Ready, "the instance to become ready");
        var id = ServiceId(host);
        Assert.Equal("passing", (await _agent.RunChecksAsync())[id]);
        var hold = _agent.Hold(c => c.IsDeregister);

        // The same sequence as the preStop endpoint: readiness fails, then the deregistration is sent (held here).
        var leave = host.Lifecycle.LeaveAsync();
        Assert.True(await _agent.WaitForCallsAsync(calls => calls.Any(c => c.IsDeregister), TimeSpan.FromSeconds(10)), "the deregistration to arrive");
        var afterLeaving = await _agent.RunChecksAsync();
        var output = _agent.Service(id)!.CheckOutput;
        hold.Dispose();
        await _agent.WaitForAnsweredCallAsync(c => c.IsDeregister, "the deregistration to be answered");
        await host.StopAsync();
        await Eventually.DoneAsync(leave, "LeaveAsync to complete");

        Assert.Equal("critical", afterLeaving[id]);
        Assert.Contains("503", output, StringComparison.Ordinal);
        await AssertDeregistrationIsLastAsync(host, id);
    }

    [Fact]
    public async Task Stop_DeregistrationIsTheFirstCallAfterLeavingStarts_AndNothingFollowsIt()
    {
        await using var host = await StartHostAsync(_agent);
        await Eventually.DoneAsync(host.Lifecycle.Ready, "the instance to become ready");

        await host.StopAsync();

        Assert.Equal(LifecyclePhase.Stopped, host.Lifecycle.Phase);
        Assert.True(host.Logs.Contains("Deregistered from Consul"));
        await AssertDeregistrationIsLastAsync(host, ServiceId(host));
    }

    [Fact]
    public async Task AgentLostTheService_RegistersAgainWhileStayingReady()
    {
        await using var host = await StartHostAsync(_agent);
        await Eventually.DoneAsync(host.Lifecycle.Ready, "the instance to become ready");
        var id = ServiceId(host);
        await host.AdvanceUntilAsync(() => _agent.Calls.Any(c => c.IsServiceRead && c.StatusCode == 200), "a renewal the agent answers", TimeSpan.FromSeconds(1));
        Assert.Single(_agent.Calls, c => c.IsRegister);

        Assert.True(_agent.Forget(id));
        await host.AdvanceUntilAsync(
            () => _agent.Calls.Count(c => c.IsRegister && c.StatusCode == 200) == 2, "a second registration", TimeSpan.FromSeconds(1));

        var calls = _agent.Calls;
        var second = calls.Last(c => c.IsRegister);
        var before = calls[second.Sequence - 1];
        Assert.True(before.IsServiceRead && before.StatusCode == 404, $"Expected a 404 renewal before the new registration, got {before}");
        Assert.Equal(AclToken, second.Token);
        Assert.NotNull(_agent.Service(id));
        Assert.Equal(LifecyclePhase.Ready, host.Lifecycle.Phase);
        Assert.True(host.Logs.Contains("Consul no longer knows this instance; registering again"));
    }

    [Fact]
    public async Task Stop_AgentStoppedBeforeShutdown_DoesNotHang_AndLogsTheFailedDeregistration()
    {
        var host = await StartHostAsync(_agent);
        await using (host)
        {
            await Eventually.DoneAsync(host.Lifecycle.Ready, "the instance to become ready");
            await _agent.StopAsync();

            await Eventually.DoneAsync(host.StopAsync(), "the shutdown to complete", TimeSpan.FromSeconds(20));

            Assert.Equal(LifecyclePhase.Stopped, host.Lifecycle.Phase);
            Assert.Contains(host.Logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("Deregistration from Consul failed", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Stop_AgentHoldsTheDeregistration_ShutdownGoesOnAfterTheDeregistrationTimeout()
    {
        await using var host = await StartHostAsync(_agent);
        await Eventually.DoneAsync(host.Lifecycle.Ready, "the instance to become ready");
        using var hung = _agent.Hold(c => c.IsDeregister);

        await Eventually.DoneAsync(host.StopAsync(), "the shutdown to complete", TimeSpan.FromSeconds(20));

        Assert.Equal(LifecyclePhase.Stopped, host.Lifecycle.Phase);
        Assert.Single(_agent.Calls, c => c.IsDeregister);
        Assert.Contains(host.Logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("Deregistration from Consul did not finish within 00:00:10", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AgentDownAtStartup_ReadyAfterTheStartupTimeout_AndRegistrationKeepsRetrying()
    {
        _agent.Unavailable = true;
        await using var host = await StartHostAsync(
            _agent, settings: new Dictionary<string, string?> { ["GracefulLifecycle:Registration:StartupTimeout"] = "00:00:03" });
        using var client = new HttpClient { BaseAddress = host.BaseAddress };

        await host.AdvanceUntilAsync(() => host.Lifecycle.Phase == LifecyclePhase.Ready, "ready after the startup timeout");
        using var readiness = await client.GetAsync(new Uri("/ifready", UriKind.Relative));
        var refusedAtReady = _agent.RefusedCount;
        await host.AdvanceUntilAsync(() => _agent.RefusedCount > refusedAtReady, "another attempt while ready", TimeSpan.FromSeconds(1));
        _agent.Unavailable = false;
        await host.AdvanceUntilAsync(() => _agent.Calls.Any(c => c.IsRegister && c.StatusCode == 200), "a registration once the agent is back", TimeSpan.FromSeconds(1));

        Assert.Equal(HttpStatusCode.OK, readiness.StatusCode);
        Assert.True(refusedAtReady >= 1);
        Assert.True(host.Logs.Contains("Not registered with Consul after 00:00:03; reporting ready anyway"));
        Assert.Contains(host.Logs.Lines, l => l.Contains("Registration with Consul failed (attempt 2)", StringComparison.Ordinal));
        Assert.NotNull(_agent.Service(ServiceId(host)));
        Assert.Equal(LifecyclePhase.Ready, host.Lifecycle.Phase);
    }

    [Fact]
    public async Task ShutdownDelay_IsRaisedToTheConsulPropagationDelay_AndTheStartupLogNamesConsul()
    {
        await using var host = await StartHostAsync(
            _agent,
            consul: o => o.ConsumerRefreshInterval = TimeSpan.FromSeconds(9),
            options: o => o.TerminationGracePeriod = TimeSpan.FromMinutes(1));
        await Eventually.DoneAsync(host.Lifecycle.Ready, "the instance to become ready");

        await host.StopAsync();

        Assert.True(host.Logs.Contains(
            "Shutdown delay 00:00:10 set by the propagation delay of Consul: consumer refresh 00:00:09 (GracefulLifecycle:Consul:ConsumerRefreshInterval) + " +
            "load-balancer cache 00:00:00 (GracefulLifecycle:Consul:LoadBalancerCacheTtl, set by GracefulLifecycle:Consul:ConsumerProfile Immediate) + " +
            "margin 00:00:01 (GracefulLifecycle:Consul:PropagationMargin) (configured 00:00:05)"));
        Assert.True(host.Logs.Contains("Shutdown delay of 00:00:10 elapsed"));
    }

    [Fact]
    public async Task ShutdownDelay_LongerThanTheConsulPropagationDelay_IsKept()
    {
        await using var host = await StartHostAsync(_agent);
        await Eventually.DoneAsync(host.Lifecycle.Ready, "the instance to become ready");

        await host.StopAsync();

        Assert.DoesNotContain(host.Logs.Lines, l => l.Contains("set by the propagation delay", StringComparison.Ordinal));
        Assert.True(host.Logs.Contains("Propagation delay of Consul 00:00:03: consumer refresh 00:00:02 (GracefulLifecycle:Consul:ConsumerRefreshInterval) + "));
        Assert.True(host.Logs.Contains("; within the shutdown delay 00:00:05"));
        Assert.True(host.Logs.Contains("Shutdown delay of 00:00:05 elapsed"));
    }

    [Fact]
    public async Task Measure_LeavingToDeregistrationReceived()
    {
        await using var host = await StartHostAsync(_agent);
        await Eventually.DoneAsync(host.Lifecycle.Ready, "the instance to become ready");

        var leavingStarted = Stopwatch.GetTimestamp();
        var stop = host.StopAsync();
        var deregister = await _agent.WaitForAnsweredCallAsync(c => c.IsDeregister, "the deregistration");
        await stop;

        var elapsed = Stopwatch.GetElapsedTime(leavingStarted, deregister.ArrivedAt);
        Measurements.Record(output.WriteLine, "Consul: leaving -> deregister received", elapsed.TotalMilliseconds);

        Assert.Equal(200, deregister.StatusCode);
        Assert.InRange(elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
    }

    /// <summary>Starts a host registered with <paramref name="agent"/> as service <c>orders</c> on 127.0.0.1.</summary>
    private static Task<LifecycleTestHost> StartHostAsync(
        FakeConsulAgent agent,
        Action<ConsulOptions>? consul = null,
        Action<IGracefulLifecycleBuilder>? more = null,
        Action<GracefulLifecycleOptions>? options = null,
        IDictionary<string, string?>? settings = null) =>
        LifecycleTestHost.StartAsync(
            configure: b =>
            {
                more?.Invoke(b);
                b.AddConsul(o =>
                {
                    o.Address = agent.Address.ToString();
                    o.Token = AclToken;
                    o.ServiceName = "orders";
                    o.ServiceAddress = "127.0.0.1";
                    o.RenewalInterval = RenewalInterval;
                    o.RequestTimeout = TimeSpan.FromSeconds(30);

                    // Consumers that list passing instances only and poll every 2 s: a 3 s propagation delay and no
                    // visibility wait, which fit the test host's 30 s grace period (Spring Cloud's 36 s would not).
                    o.ConsumerProfile = ConsulConsumerProfile.Immediate;
                    o.ConsumerRefreshInterval = TimeSpan.FromSeconds(2);
                    consul?.Invoke(o);
                });
            },
            options: options,
            settings: Settings(settings));

    private static string ServiceId(LifecycleTestHost host) => $"orders-{Dns.GetHostName()}-{host.Port}";

    /// <summary>
    /// Fake time runs ahead of real I/O whenever a test moves it, so the bounds on calls to the agent are set wide
    /// enough (in fake time) not to cut a loopback call short.
    /// </summary>
    private static Dictionary<string, string?> Settings(IDictionary<string, string?>? extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["GracefulLifecycle:Registration:DeregistrationTimeout"] = "00:00:10",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>
    /// The deregistration is sent before the leaving token's callbacks run (a slow callback must not delay it), so the
    /// boundary is the deregistration itself: before it only the registration and reads, after it nothing at all.
    /// </summary>
    private async Task AssertDeregistrationIsLastAsync(LifecycleTestHost host, string id)
    {
        var boundary = _agent.Calls.ToList().FindIndex(c => c.IsDeregister);
        Assert.True(boundary >= 1, $"a deregistration after the registration; got {string.Join(", ", _agent.Calls)}");
        Assert.All(_agent.Calls.Take(boundary), c => Assert.True(c.IsRegister || c.IsServiceRead, c.ToString()));
        var after = _agent.Calls.Skip(boundary).ToArray();
        var deregister = Assert.Single(after);
        Assert.Equal("PUT", deregister.Method);
        Assert.Equal($"/v1/agent/service/deregister/{id}", deregister.Path);
        Assert.Equal(200, deregister.StatusCode);
        Assert.Equal(AclToken, deregister.Token);
        Assert.Null(_agent.Service(id));

        // Several renewal intervals later, still nothing: a late renewal or registration would bring the instance back.
        for (var i = 0; i < 5; i++)
        {
            host.Time.Advance(RenewalInterval);
        }

        var more = await _agent.WaitForCallsAsync(calls => calls.Count > boundary + 1, TimeSpan.FromMilliseconds(300));
        Assert.False(more, $"No call may follow the deregistration; got {string.Join(", ", _agent.Calls.Skip(boundary))}");
    }

    private async Task<JsonElement[]> HealthAsync(bool passingOnly)
    {
        using var client = new HttpClient();
        client.DefaultRequestHeaders.Add("X-Consul-Token", AclToken);
        var json = await client.GetStringAsync(new Uri(_agent.Address, "v1/health/service/orders" + (passingOnly ? "?passing" : string.Empty)));
        using var document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateArray().Select(e => e.Clone()).ToArray();
    }
}
