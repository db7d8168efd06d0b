using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using GracefulLifecycle.TestSupport;
using Grpc.AspNetCore.HealthChecks;
using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace GracefulLifecycle.Grpc.Tests;

/// <summary>grpc.health.v1 through a real Grpc.Net.Client against real Kestrel, the lifecycle driven in process.</summary>
public sealed class GrpcHealthTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Check_IsNotServingBeforeReady_ServingWhenReady_AndNotServingTheMomentLeavingStarts()
    {
        var preload = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await GrpcHealthHost.StartAsync(b => b.AddPreload("gate", (_, _) => preload.Task).AddGrpcHealthChecks());

        Assert.Equal(ServingStatus.NotServing, await CheckAsync(host, string.Empty));

        preload.SetResult();
        await Eventually.DoneAsync(host.Lifecycle.Ready, "ready");
        Assert.Equal(ServingStatus.Serving, await CheckAsync(host, string.Empty));

        _ = host.Lifecycle.LeaveAsync();
        Assert.Equal(ServingStatus.NotServing, await CheckAsync(host, string.Empty));
    }

    [Fact]
    public async Task Watch_GetsNotServing_Within100ms_OfLeaving_WithoutWaitingForAHealthCheckPublication()
    {
        await using var host = await GrpcHealthHost.StartAsync();
        await Eventually.DoneAsync(host.Lifecycle.Ready, "ready");
        using var watch = host.Client.Watch(new HealthCheckRequest(), deadline: DateTime.UtcNow + Deadline);
        await ReadUntilAsync(watch, ServingStatus.Serving);

        var clock = Stopwatch.StartNew();
        _ = host.Lifecycle.LeaveAsync();
        await ReadUntilAsync(watch, ServingStatus.NotServing);

        Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(100), $"NOT_SERVING arrived {clock.Elapsed.TotalMilliseconds} ms after leaving started");
    }

    [Fact]
    public async Task Watch_StartedBeforeReady_GetsNotServing_ThenServingAsSoonAsTheInstanceIsReady()
    {
        var preload = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await GrpcHealthHost.StartAsync(b => b.AddPreload("gate", (_, _) => preload.Task).AddGrpcHealthChecks());
        using var watch = host.Client.Watch(new HealthCheckRequest(), deadline: DateTime.UtcNow + Deadline);

        Assert.True(await watch.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(ServingStatus.NotServing, watch.ResponseStream.Current.Status);

        // The publisher's period (30 s of real time by default) never passes here: the change is pushed.
        preload.SetResult();
        await ReadUntilAsync(watch, ServingStatus.Serving);
    }

    [Fact]
    public async Task AServiceMappedToOtherChecks_StillGoesNotServing_WhenLeaving()
    {
        await using var host = await GrpcHealthHost.StartAsync(
            b => b.AddGrpcHealthChecks(o => o.Services.Map("catalog", c => c.Tags.Contains("db"))),
            s => s.AddHealthChecks().AddCheck("db", () => HealthCheckResult.Healthy(), ["db"]));
        await Eventually.DoneAsync(host.Lifecycle.Ready, "ready");
        using var watch = host.Client.Watch(new HealthCheckRequest { Service = "catalog" }, deadline: DateTime.UtcNow + Deadline);
        await ReadUntilAsync(watch, ServingStatus.Serving);
        Assert.Equal(ServingStatus.Serving, await CheckAsync(host, "catalog"));

        _ = host.Lifecycle.LeaveAsync();

        Assert.Equal(ServingStatus.NotServing, await CheckAsync(host, "catalog"));
        await ReadUntilAsync(watch, ServingStatus.NotServing);
    }

    [Fact]
    public async Task AServiceWhoseOwnChecksFail_IsNotServingWhileReady()
    {
        await using var host = await GrpcHealthHost.StartAsync(
            b => b.AddGrpcHealthChecks(o => o.Services.Map("catalog", c => c.Tags.Contains("db"))),
            s => s.AddHealthChecks().AddCheck("db", () => HealthCheckResult.Unhealthy(), ["db"]));
        await Eventually.DoneAsync(host.Lifecycle.Ready, "ready");

        Assert.Equal(ServingStatus.NotServing, await CheckAsync(host, "catalog"));
        Assert.Equal(StatusCode.NotFound, (await Assert.ThrowsAsync<RpcException>(() => CheckAsync(host, "unmapped"))).StatusCode);
    }

    [Fact]
    public async Task Watch_FollowsARejoin_ServingAgainWhenReady_AndNotServingAtTheNextLeave()
    {
        await using var host = await GrpcHealthHost.StartAsync(
            services: s => s.Configure<GracefulLifecycleOptions>(o => o.PreStop.WhenNoStopFollows = PreStopFollowUpAction.Rejoin),
            map: app => app.MapGracefulLifecycle());
        await Eventually.DoneAsync(host.Lifecycle.Ready, "ready");
        using var watch = host.Client.Watch(new HealthCheckRequest(), deadline: DateTime.UtcNow + TimeSpan.FromSeconds(30));
        await ReadUntilAsync(watch, ServingStatus.Serving);

        // HTTP/2 without TLS, as the server speaks only that: prior knowledge.
        using var http = new HttpClient { BaseAddress = host.BaseAddress, DefaultRequestVersion = System.Net.HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        var preStop = http.GetAsync("/prestop");
        await ReadUntilAsync(watch, ServingStatus.NotServing);

        // No SIGTERM follows: once the grace period less the drain and the margin has passed, the instance rejoins.
        await host.Time.AdvanceUntilAsync(() => host.Lifecycle.Phase == LifecyclePhase.Ready, "the rejoin", TimeSpan.FromSeconds(1));
        using (var answer = await preStop)
        {
            Assert.True(answer.IsSuccessStatusCode);
        }

        await ReadUntilAsync(watch, ServingStatus.Serving);

        _ = host.Lifecycle.LeaveAsync();
        await ReadUntilAsync(watch, ServingStatus.NotServing);
    }

    [Fact]
    public async Task Watch_ThroughAWholeShutdown_GetsNotServingOnce()
    {
        await using var host = await GrpcHealthHost.StartAsync();
        await Eventually.DoneAsync(host.Lifecycle.Ready, "ready");
        using var watch = host.Client.Watch(new HealthCheckRequest(), deadline: DateTime.UtcNow + TimeSpan.FromSeconds(30));
        await ReadUntilAsync(watch, ServingStatus.Serving);
        var received = new List<ServingStatus>();
        var reading = Task.Run(async () =>
        {
            try
            {
                while (await watch.ResponseStream.MoveNext(CancellationToken.None))
                {
                    lock (received)
                    {
                        received.Add(watch.ResponseStream.Current.Status);
                    }
                }
            }
            catch (RpcException)
            {
                // Ended by the server, whichever way it ends it.
            }
        });

        // Leaving, the delay, the drain and the stop: every phase after Ready.
        await host.StopAsync();
        await Eventually.DoneAsync(reading, "the Watch stream ends");

        Assert.Equal([ServingStatus.NotServing], received);
    }

    [Fact]
    public void AddGrpcHealthChecks_CalledTwice_AddsTheLifecycleHookOnce_AndKeepsEveryMapping()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddGracefulLifecycle().AddGrpcHealthChecks(o => o.Services.Map("a", _ => true)).AddGrpcHealthChecks(o => o.Services.Map("b", _ => true));
        using var provider = services.BuildServiceProvider();

        Assert.Single(services, d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(LifecycleGrpcHealth));
        var mappings = provider.GetRequiredService<IOptions<GrpcHealthChecksOptions>>().Value.Services.Select(m => m.Name).Order().ToArray();
        Assert.Equal([string.Empty, "a", "b"], mappings);
    }

    private static async Task<ServingStatus> CheckAsync(GrpcHealthHost host, string service) =>
        (await host.Client.CheckAsync(new HealthCheckRequest { Service = service }, deadline: DateTime.UtcNow + Deadline)).Status;

    private static async Task ReadUntilAsync(AsyncServerStreamingCall<HealthCheckResponse> watch, ServingStatus status)
    {
        while (await watch.ResponseStream.MoveNext(CancellationToken.None))
        {
            if (watch.ResponseStream.Current.Status == status)
            {
                return;
            }
        }

        throw new InvalidOperationException($"The Watch stream ended before {status}.");
    }
}
