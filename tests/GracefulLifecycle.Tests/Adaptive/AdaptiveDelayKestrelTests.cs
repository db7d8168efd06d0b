using System.Net;
using GracefulLifecycle.Adaptive;
using GracefulLifecycle.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.Tests.Adaptive;

/// <summary>
/// The adaptive delay behind real Kestrel on loopback, on fake time: requests go through the middleware as the
/// server hands them over, from the transport's address (127.0.0.1), probes included.
/// </summary>
public sealed class AdaptiveDelayKestrelTests
{
    private static readonly TimeSpan Every = TimeSpan.FromMilliseconds(20);

    [Fact]
    public async Task RealRequests_StoppingAfterLeaving_EndTheDelayAQuietPeriodLater_ProbesNotCounted_AndTheTimelineTellsIt()
    {
        await using var host = await LifecycleTestHost.StartAsync(
            options: o =>
            {
                o.ShutdownDelay = TimeSpan.FromSeconds(10);
                o.TerminationGracePeriod = TimeSpan.FromSeconds(60);
            },
            settings: new Dictionary<string, string?>
            {
                ["GracefulLifecycle:AdaptiveDelay:Enabled"] = "true",
                ["GracefulLifecycle:AdaptiveDelay:MinimumDelay"] = "00:00:01",
                ["GracefulLifecycle:AdaptiveDelay:TrafficWindow"] = "00:00:02",
            });
        await Eventually.DoneAsync(host.Lifecycle.Ready, "ready");
        using var client = new HttpClient { BaseAddress = host.BaseAddress };
        var timeline = host.Services.GetRequiredService<ShutdownTimeline>();

        // 50 requests/s for 2 s: 10 gaps of 20 ms are below the 500 ms floor of the quiet period.
        await SendAsync(client, host, "/", 100);

        var leave = host.Lifecycle.LeaveAsync();

        // The balancer goes on for 1 s, then only probes readiness (503 now) every 20 ms for 2 s more.
        var afterLeaving = await SendAsync(client, host, "/", 50);
        Assert.All(afterLeaving, r => Assert.True(r.ConnectionClose, "keep-alive clients are told to reconnect"));
        var probes = await SendAsync(client, host, "/ifready", 100);
        Assert.All(probes, r => Assert.Equal(HttpStatusCode.ServiceUnavailable, r.Status));
        await host.AdvanceUntilAsync(() => leave.IsCompleted, "the delay ends");

        // The last request after leaving arrived 980 ms after it; the peer was quiet 500 ms later.
        Assert.Equal(DelayEnd.Quiet, timeline.DelayEnd);
        Assert.Equal(TimeSpan.FromMilliseconds(1480), timeline.DelayEndedAfter);

        await host.StopAsync();
        var line = Assert.Single(host.Logs.Lines, l => l.Contains("[82]", StringComparison.Ordinal));
        Assert.Contains("50 requests arrived after it, the last 980 ms after it; delay Quiet at +1480 ms", line, StringComparison.Ordinal);
        Assert.Contains("by peer: 127.0.0.1 50 requests, last at +980 ms", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disabled_ByDefault_RealRequests_DoNotEndTheDelay()
    {
        await using var host = await LifecycleTestHost.StartAsync();
        await Eventually.DoneAsync(host.Lifecycle.Ready, "ready");
        using var client = new HttpClient { BaseAddress = host.BaseAddress };
        var timeline = host.Services.GetRequiredService<ShutdownTimeline>();
        await SendAsync(client, host, "/", 50);

        var leave = host.Lifecycle.LeaveAsync();
        await host.AdvanceUntilAsync(() => leave.IsCompleted, "the delay ends");

        Assert.Equal(DelayEnd.Elapsed, timeline.DelayEnd);
        Assert.Equal(TimeSpan.FromSeconds(5), timeline.DelayEndedAfter);
    }

    private static async Task<List<(HttpStatusCode Status, bool ConnectionClose)>> SendAsync(HttpClient client, LifecycleTestHost host, string path, int count)
    {
        var answers = new List<(HttpStatusCode, bool)>();
        for (var i = 0; i < count; i++)
        {
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
            answers.Add((response.StatusCode, response.Headers.ConnectionClose == true));
            host.Time.Advance(Every);
        }

        return answers;
    }
}
