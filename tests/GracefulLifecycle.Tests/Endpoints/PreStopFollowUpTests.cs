using System.Net;
using GracefulLifecycle.Testing;
using GracefulLifecycle.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace GracefulLifecycle.Tests.Endpoints;

/// <summary>A preStop call that no SIGTERM follows must not leave the instance unready for good with liveness 200.</summary>
public sealed class PreStopFollowUpTests
{
    private static Action<HttpRequestMessage> FromLoopback => r => r.Headers.Add(SampleAppFactory.RemoteAddressHeader, "127.0.0.1");

    [Fact]
    public async Task PreStopWithNoStopFollowing_StopsTheHost_WhenTheGracePeriodLessDrainAndMarginHasPassed()
    {
        // Grace 30 s, drain 10 s, margin 2 s: the orchestrator would have sent SIGTERM by 18 s after the call.
        await using var app = new SampleAppFactory();
        using var client = app.CreateClient();
        await app.WaitUntilReadyAsync();
        var host = app.Services.GetRequiredService<IHostApplicationLifetime>();

        var call = ProbeResponse.GetAsync(client, "/prestop", FromLoopback);
        await app.WaitUntilServingTheDelayAsync();
        app.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(HttpStatusCode.OK, (await Eventually.ResultAsync(call, "the preStop answer")).Code);

        app.Time.Advance(TimeSpan.FromSeconds(12.9));
        Assert.False(host.ApplicationStopping.IsCancellationRequested, "stopped before the orchestrator's SIGTERM was due");
        Assert.Equal(HttpStatusCode.OK, (await ProbeResponse.GetAsync(client, "/health")).Code);

        app.Time.Advance(TimeSpan.FromSeconds(0.1));
        await Eventually.TrueAsync(() => host.ApplicationStopping.IsCancellationRequested, "the host stopping by itself");
    }

    [Fact]
    public async Task PreStopFollowedByAStop_TheSafetyNetNeverFiresAgain()
    {
        await using var app = new SampleAppFactory();
        using var client = app.CreateClient();
        await app.WaitUntilReadyAsync();
        var host = app.Services.GetRequiredService<IHostApplicationLifetime>();
        var stops = 0;
        host.ApplicationStopping.Register(() => Interlocked.Increment(ref stops));

        var call = ProbeResponse.GetAsync(client, "/prestop", FromLoopback);
        await app.WaitUntilServingTheDelayAsync();
        app.Time.Advance(TimeSpan.FromSeconds(5));
        await Eventually.ResultAsync(call, "the preStop answer");

        host.StopApplication();
        app.Time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(1, Volatile.Read(ref stops));
    }

    [Fact]
    public async Task ARefusedPreStopCall_ArmsNothing()
    {
        await using var app = new SampleAppFactory();
        using var client = app.CreateClient();
        await app.WaitUntilReadyAsync();
        var host = app.Services.GetRequiredService<IHostApplicationLifetime>();

        var refused = await ProbeResponse.GetAsync(client, "/prestop", r => r.Headers.Add(SampleAppFactory.RemoteAddressHeader, "10.1.2.3"));
        app.Time.Advance(TimeSpan.FromMinutes(5));

        Assert.Equal(HttpStatusCode.Forbidden, refused.Code);
        Assert.False(host.ApplicationStopping.IsCancellationRequested);
        Assert.Equal(LifecyclePhase.Ready, app.Lifecycle.Phase);
    }
}
