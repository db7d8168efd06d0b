using System.Net;
using GracefulLifecycle.Adaptive;
using GracefulLifecycle.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.Tests.Adaptive;

/// <summary>
/// Probes are not traffic, without configuration: the kubelet's (by its User-Agent, whatever the path), the gRPC health
/// service's, and those of any health-check endpoint the application maps, whatever its path.
/// </summary>
public sealed class ProbeRequestsTests
{
    [Fact]
    public async Task EveryKindOfProbe_OnRealKestrel_CountsNeitherForTheAdaptiveDelay_NorInTheTimeline()
    {
        await using var host = await LifecycleTestHost.StartAsync(
            options: o => o.ShutdownDelay = TimeSpan.FromSeconds(2),
            settings: new Dictionary<string, string?> { ["GracefulLifecycle:AdaptiveDelay:Enabled"] = "true" },
            map: app =>
            {
                app.MapHealthChecks("/status/deep");
                app.MapHealthChecks("/alive", new HealthCheckOptions { Predicate = r => r.Tags.Contains("live") });
            });
        await Eventually.DoneAsync(host.Lifecycle.Ready, "ready");
        using var client = new HttpClient { BaseAddress = host.BaseAddress };
        var traffic = host.Services.GetRequiredService<TrafficMonitor>();

        await SendProbesAsync(client);
        var leave = host.Lifecycle.LeaveAsync();

        // Only probes before leaving: no peer was sending, nothing for the delay to wait for.
        Assert.Equal(0, traffic.WhenAllQuiet().Sending);

        await SendProbesAsync(client);
        await GetAsync(client, "/");
        await GetAsync(client, "/");

        var peer = Assert.Single(traffic.AfterLeaving());
        Assert.Equal(2, peer.AfterLeaving);
        await host.AdvanceUntilAsync(() => leave.IsCompleted, "the delay ends");
    }

    [Theory]
    [InlineData("/", "kube-probe/1.31", true)]
    [InlineData("/orders", "kube-probe/1.31", true)]
    [InlineData("/ifready", "kube-probe/1.31", true)]
    [InlineData("/", "kube-probes", false)]
    [InlineData("/", "Mozilla/5.0 kube-probe/1.31", false)]
    [InlineData("/grpc.health.v1.Health/Check", "grpc-dotnet/2.85.0", true)]
    [InlineData("/grpc.health.v1.Health/Watch", "grpc-dotnet/2.85.0", true)]
    [InlineData("/greet.Greeter/SayHello", "grpc-dotnet/2.85.0", false)]
    [InlineData("/status/deep", "", true)]
    [InlineData("/STATUS/deep/", "", true)]
    [InlineData("/status", "", false)]
    [InlineData("/health", "", true)]
    [InlineData("/prestop", "", true)]
    [InlineData("/metrics", "", true)]
    [InlineData("/orders", "", false)]
    public async Task ARequest_IsAProbe_ByItsUserAgent_ItsGrpcService_OrAMappedHealthCheckPath(string path, string userAgent, bool probe)
    {
        await using var host = await LifecycleTestHost.StartAsync(
            settings: new Dictionary<string, string?>
            {
                ["GracefulLifecycle:AdaptiveDelay:Enabled"] = "true",
                ["GracefulLifecycle:AdaptiveDelay:ExcludedPaths:0"] = "/metrics",
            },
            map: app => app.MapHealthChecks("status/deep/"));
        var traffic = host.Services.GetRequiredService<TrafficMonitor>();

        traffic.Record(IPAddress.Loopback, path, userAgent, afterLeaving: true);

        Assert.Equal(probe ? 0 : 1, traffic.AfterLeaving().Sum(p => p.AfterLeaving));
    }

    [Fact]
    public void WithoutEndpoints_OnlyTheConfiguredPathsAndTheGrpcHealthServiceAreProbes()
    {
        var probes = new ProbeRequests(Microsoft.Extensions.Options.Options.Create(new GracefulLifecycleOptions()));

        Assert.True(probes.IsProbePath("/health"));
        Assert.True(probes.IsProbePath("/grpc.health.v1.Health/Check"));
        Assert.False(probes.IsProbePath("/alive"));
    }

    private static async Task SendProbesAsync(HttpClient client)
    {
        await GetAsync(client, "/status/deep");
        await GetAsync(client, "/alive");
        await GetAsync(client, "/health");
        using (var grpc = new HttpRequestMessage(HttpMethod.Post, "/grpc.health.v1.Health/Check"))
        {
            (await client.SendAsync(grpc)).Dispose();
        }

        using var kubelet = new HttpRequestMessage(HttpMethod.Get, "/");
        kubelet.Headers.TryAddWithoutValidation("User-Agent", "kube-probe/1.31");
        using var answer = await client.SendAsync(kubelet);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
    }

    private static async Task GetAsync(HttpClient client, string path) => (await client.GetAsync(path)).Dispose();
}
