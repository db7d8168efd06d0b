using System.Diagnostics;
using System.Net;
using System.Text.Json;
using GracefulLifecycle.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace GracefulLifecycle.Etcd.Tests;

/// <summary>
/// Registration against a real etcd server: every fact is read back from etcd with range queries, as a consumer
/// would read it. The lifecycle runs on fake time; etcd's lease clock is real.
/// </summary>
public sealed class EtcdLifecycleTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Prefix = "/services/orders/";
    private EtcdServer _etcd = null!;

    public async Task InitializeAsync() => _etcd = await EtcdServer.StartAsync();

    public async Task DisposeAsync() => await _etcd.DisposeAsync();

    [Fact]
    public async Task TheKey_AppearsOnlyAfterPreload_WithTheInstanceAddressAndALease_AndReadinessFollowsTheVisibilityDelay()
    {
        var preload = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await StartAsync(b => b.AddPreload("cache", (_, _) => preload.Task));

        await Eventually.TrueAsync(() => host.Lifecycle.Phase == LifecyclePhase.Preloading, "preloading");
        Assert.Empty(await _etcd.RangeAsync(Prefix));

        preload.SetResult();
        var key = await WaitForKeyAsync(present: true);
        Assert.Equal($"{Prefix}i-1", key!.Key);
        Assert.NotEqual(0, key.Lease);
        using var value = JsonDocument.Parse(key.Value);
        Assert.Equal("orders", value.RootElement.GetProperty("name").GetString());
        Assert.Equal("127.0.0.1", value.RootElement.GetProperty("address").GetString());
        Assert.Equal(host.Port, value.RootElement.GetProperty("port").GetInt32());
        Assert.Equal("blue", value.RootElement.GetProperty("metadata").GetProperty("color").GetString());

        Assert.Equal(LifecyclePhase.Registering, host.Lifecycle.Phase);
        using var client = new HttpClient { BaseAddress = host.BaseAddress };
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/ifready")).StatusCode);
        await host.AdvanceUntilAsync(() => host.Lifecycle.Phase == LifecyclePhase.Ready, "ready after the visibility delay");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/ifready")).StatusCode);
    }

    [Fact]
    public async Task Leaving_RevokesTheLease_SoTheKeyIsGoneBeforeTheDrain_WhileTheInstanceStillServes()
    {
        await using var host = await StartReadyAsync();
        using var client = new HttpClient { BaseAddress = host.BaseAddress };

        var clock = Stopwatch.StartNew();
        var leave = host.Lifecycle.LeaveAsync();
        await WaitForKeyAsync(present: false);
        var gone = clock.Elapsed;

        Assert.Equal(LifecyclePhase.Leaving, host.Lifecycle.Phase);
        Assert.False(leave.IsCompleted);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/ifready")).StatusCode);
        Measurements.Record(output.WriteLine, "etcd: leaving -> key gone (in-process, polled range)", gone.TotalMilliseconds);

        // The propagation delay (refresh 1 s + 1 s) is served after the revoke, then the drain.
        await host.AdvanceUntilAsync(() => leave.IsCompleted, "the propagation delay");
        await host.StopAsync();
        Assert.Empty(await _etcd.RangeAsync(Prefix));
    }

    [Fact]
    public async Task KeepAlives_HoldTheKeyPastTheTtl()
    {
        await using var host = await StartReadyAsync();
        var key = Assert.Single(await _etcd.RangeAsync(Prefix));

        // Let three real TTLs pass while the fake clock fires the keep-alives.
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(6.5))
        {
            host.Time.Advance(TimeSpan.FromMilliseconds(200));
            await Task.Delay(50);
            Assert.Single(await _etcd.RangeAsync(Prefix));
        }

        Assert.Equal(key.Lease, Assert.Single(await _etcd.RangeAsync(Prefix)).Lease);
    }

    [Fact]
    public async Task AnExpiredLease_IsReplacedByRegisteringAgain_WhileReady()
    {
        await using var host = await StartReadyAsync();
        var before = Assert.Single(await _etcd.RangeAsync(Prefix));

        // No keep-alive while the fake clock stands still: etcd expires the lease on its own clock.
        await WaitForKeyAsync(present: false, timeout: TimeSpan.FromSeconds(10));

        await host.AdvanceUntilAsync(() => host.Logs.Contains("registering again"), "the lost lease is noticed");
        var after = await WaitForKeyAsync(present: true);
        Assert.NotEqual(before.Lease, after!.Lease);
        Assert.Equal(LifecyclePhase.Ready, host.Lifecycle.Phase);
    }

    [Fact]
    public async Task ALeaseRevokedBehindOurBack_IsNotAnErrorWhenLeaving()
    {
        await using var host = await StartReadyAsync();
        var key = Assert.Single(await _etcd.RangeAsync(Prefix));
        await _etcd.RevokeAsync(key.Lease);

        await host.StopAsync();

        Assert.True(host.Logs.Contains("was already gone when revoking it"));
        Assert.False(host.Logs.Contains("Deregistration from etcd failed"));
    }

    [Fact]
    public async Task AnEtcdThatIsDownAtShutdown_DoesNotHoldTheShutdownPastItsBudget()
    {
        await using var host = await StartReadyAsync(o => o.Registration.DeregistrationTimeout = TimeSpan.FromSeconds(1));
        await _etcd.StopAsync();

        var clock = Stopwatch.StartNew();
        await host.StopAsync();

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"shutdown took {clock.Elapsed}");
        Assert.True(host.Logs.Contains("Deregistration from etcd failed") || host.Logs.Contains("Deregistration from etcd did not finish"));
        Assert.Equal(LifecyclePhase.Stopped, host.Lifecycle.Phase);
    }

    [Fact]
    public async Task AnEtcdThatIsDownAtStartup_IsRetried_AndTheKeyIsWrittenOnceItIsBack()
    {
        await _etcd.StopAsync();
        await using var host = await StartAsync(options: o => o.Registration.StartupTimeout = TimeSpan.FromSeconds(5));

        await host.AdvanceUntilAsync(() => host.Logs.Contains("Registration with etcd failed (attempt 2)"), "retries");
        await host.AdvanceUntilAsync(() => host.Lifecycle.Phase == LifecyclePhase.Ready, "ready after the startup timeout");

        await _etcd.RestartAsync();
        await host.AdvanceUntilAsync(() => host.Logs.Contains("Registered with etcd"), "registered once etcd is back", TimeSpan.FromSeconds(1));
        Assert.Single(await _etcd.RangeAsync(Prefix));
    }

    [Fact]
    public async Task AnEtcdThatRefusedEveryCall_IsNotReportedAsDeregistered()
    {
        await _etcd.StopAsync();
        await using var host = await StartAsync(options: o => o.Registration.StartupTimeout = TimeSpan.FromSeconds(5));
        await host.AdvanceUntilAsync(() => host.Logs.Contains("Registration with etcd failed (attempt 2)"), "retries");

        await host.StopAsync();

        Assert.True(host.Logs.Lines.Any(l => l.StartsWith("Warning ", StringComparison.Ordinal) && l.Contains("[72] Deregistration from etcd not confirmed", StringComparison.Ordinal)), string.Join("\n", host.Logs.Lines));
        Assert.False(host.Logs.Contains("Deregistered from etcd"));
    }

    [Fact]
    public async Task ASecondInstanceWithTheSameId_NeverOverwritesTheKey_AndFailsStartupOnceTheHolderOutlivesItsTtl()
    {
        // The first instance's lease outlives the test on etcd's real clock without a keep-alive: its fake clock stands still.
        await using var first = await StartReadyAsync(leaseTtl: TimeSpan.FromSeconds(60));
        var held = Assert.Single(await _etcd.RangeAsync(Prefix));

        await using var second = await StartAsync(leaseTtl: TimeSpan.FromSeconds(60));
        await second.AdvanceUntilAsync(
            () => second.Logs.Contains("cannot work as configured"), "the second instance gives up", TimeSpan.FromSeconds(1));

        Assert.True(second.Logs.Contains($"Another live instance holds the etcd key {Prefix}i-1: its lease {held.Lease}"), string.Join("\n", second.Logs.Lines));
        Assert.True(second.Logs.Contains($"is held by lease {held.Lease} of another instance; it is not overwritten"));
        Assert.Equal(held, Assert.Single(await _etcd.RangeAsync(Prefix)));

        // Its leaving deletes nothing: the key was never its own.
        await second.StopAsync();
        Assert.Equal(held, Assert.Single(await _etcd.RangeAsync(Prefix)));
        Assert.True(second.Logs.Contains("Deregistration from etcd not confirmed"));
        Assert.Equal(LifecyclePhase.Ready, first.Lifecycle.Phase);
    }

    [Fact]
    public async Task AKeyLeftByAKilledRun_IsWaitedOutUntilItsLeaseExpires_ThenWritten()
    {
        // What a run killed with SIGKILL leaves behind: its key, under a lease nobody keeps alive.
        var stale = await _etcd.GrantAsync(TimeSpan.FromSeconds(3));
        await _etcd.PutAsync($"{Prefix}i-1", """{"previous":true}""", stale);
        await using var host = await StartAsync(options: o =>
        {
            o.Registration.RetryInitialDelay = TimeSpan.FromMilliseconds(500);
            o.Registration.RetryMaxDelay = TimeSpan.FromSeconds(1);
        });

        // Fake time runs at most 0.4 times as fast as etcd's real clock here, so the wait the adapter measures on the
        // fake clock cannot end before the stale lease has really expired.
        var clock = Stopwatch.StartNew();
        while (!host.Logs.Contains("Registered with etcd"))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), string.Join("\n", host.Logs.Lines));
            host.Time.Advance(TimeSpan.FromMilliseconds(2));
            await Task.Delay(5);
        }

        Assert.True(host.Logs.Contains($"is held by lease {stale} of another instance"));
        Assert.False(host.Logs.Contains("cannot work as configured"));
        var key = Assert.Single(await _etcd.RangeAsync(Prefix));
        Assert.NotEqual(stale, key.Lease);
        Assert.Contains("\"port\"", key.Value, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AKeyDeletedWhileTheLeaseLives_IsNoticedAtTheNextRenewal_AndWrittenAgain()
    {
        await using var host = await StartReadyAsync(leaseTtl: TimeSpan.FromSeconds(30));
        var before = Assert.Single(await _etcd.RangeAsync(Prefix));

        await _etcd.DeleteAsync(before.Key);
        await host.AdvanceUntilAsync(() => host.Logs.Contains("etcd no longer knows this instance; registering again"), "the next renewal");

        var after = await WaitForKeyAsync(present: true);
        Assert.True(host.Logs.Contains($"etcd: the key {before.Key} is no longer held by lease {before.Lease}, which lives on (now held by -1"));
        Assert.NotEqual(before.Lease, after!.Lease);
        Assert.Equal(before.Value, after.Value);
        Assert.Equal(LifecyclePhase.Ready, host.Lifecycle.Phase);
    }

    [Fact]
    public async Task AKeyTakenByAnotherLease_IsNeitherOverwrittenNorDeletedWhenLeaving()
    {
        await using var host = await StartReadyAsync(leaseTtl: TimeSpan.FromSeconds(30));
        var mine = Assert.Single(await _etcd.RangeAsync(Prefix));
        var other = await _etcd.GrantAsync(TimeSpan.FromSeconds(60));
        await _etcd.PutAsync(mine.Key, """{"other":true}""", other);

        await host.AdvanceUntilAsync(() => host.Logs.Contains($"is held by lease {other} of another instance"), "the next renewal and the attempt to register again");
        await host.StopAsync();

        var left = Assert.Single(await _etcd.RangeAsync(Prefix));
        Assert.Equal(other, left.Lease);
        Assert.Equal("""{"other":true}""", left.Value);
    }

    [Fact]
    public async Task Failover_ToTheSecondEndpoint_WhenTheFirstDoesNotAnswer()
    {
        await using var host = await StartReadyAsync(endpoints: $"http://127.0.0.1:1,{_etcd.ClientUrl}");

        Assert.Single(await _etcd.RangeAsync(Prefix));
        Assert.True(host.Logs.Contains("failing over to"));
    }

    [Fact]
    public async Task Failover_ToTheSecondEndpoint_WhenTheFirstResetsTheConnectionBeforeHttpClientWrapsIt()
    {
        var first = new Uri("http://127.0.0.2:2379/");
        ResetConnectionHandler reset = null!;
        await using var host = await StartReadyAsync(
            endpoints: $"{first},{_etcd.ClientUrl}",
            configure: b => reset = ResetConnectionHandler.AddTo(b.Services, EtcdRegistry.HttpClientName, first));

        Assert.Single(await _etcd.RangeAsync(Prefix));
        Assert.Equal(1, reset.Resets);
        Assert.True(host.Logs.Contains("failing over to"));
        Assert.False(host.Logs.Contains("Registration with etcd failed"));
    }

    [Fact]
    public async Task ShutdownDelay_IsRaisedToTheEtcdPropagationDelay()
    {
        await using var host = await StartAsync(options: o => o.ShutdownDelay = TimeSpan.FromSeconds(1), consumerRefresh: TimeSpan.FromSeconds(4));

        Assert.True(host.Logs.Contains("Shutdown delay 00:00:05 set by the propagation delay of etcd"));
    }

    private async Task<EtcdKeyValue?> WaitForKeyAsync(bool present, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var keys = await _etcd.RangeAsync(Prefix);
            if (keys.Count > 0 == present)
            {
                return keys.Count > 0 ? keys[0] : null;
            }

            Assert.True(deadline.Elapsed < (timeout ?? TimeSpan.FromSeconds(10)), present ? "the key never appeared" : "the key never went away");
            await Task.Delay(10);
        }
    }

    private async Task<LifecycleTestHost> StartReadyAsync(
        Action<GracefulLifecycleOptions>? options = null, string? endpoints = null, Action<IGracefulLifecycleBuilder>? configure = null, TimeSpan? leaseTtl = null)
    {
        var host = await StartAsync(configure, options, endpoints, leaseTtl: leaseTtl);
        await host.AdvanceUntilAsync(() => host.Lifecycle.Phase == LifecyclePhase.Ready, "ready");
        return host;
    }

    private Task<LifecycleTestHost> StartAsync(
        Action<IGracefulLifecycleBuilder>? configure = null,
        Action<GracefulLifecycleOptions>? options = null,
        string? endpoints = null,
        TimeSpan? consumerRefresh = null,
        TimeSpan? leaseTtl = null) =>
        LifecycleTestHost.StartAsync(
            b =>
            {
                configure?.Invoke(b);
                b.AddEtcd(o =>
                {
                    o.Endpoints = endpoints ?? _etcd.ClientUrl.ToString();
                    o.ServiceName = "orders";
                    o.InstanceId = "i-1";
                    o.ServiceAddress = "127.0.0.1";
                    o.LeaseTtl = leaseTtl ?? TimeSpan.FromSeconds(2);
                    o.ConsumerRefreshInterval = consumerRefresh ?? TimeSpan.FromSeconds(1);
                    o.RequestTimeout = TimeSpan.FromSeconds(2);
                    o.Metadata["color"] = "blue";
                });
            },
            options);
}
