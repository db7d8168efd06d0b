using System.Net;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GracefulLifecycle.Tests.Endpoints;

public sealed class ProbeEndpointTests
{
    [Fact]
    public async Task DuringPreload_LivenessAnswers200_ReadinessAnswers503_UntilPreloadIsDone()
    {
        await using var app = new SampleAppFactory().With("Sample:PreloadDuration", "00:00:10");
        using var client = app.CreateClient();

        var ready = await ProbeResponse.GetAsync(client, "/ifready");
        var live = await ProbeResponse.GetAsync(client, "/health");

        Assert.Equal((HttpStatusCode.ServiceUnavailable, "Unhealthy"), (ready.Code, ready.Status));
        Assert.Contains(ready.Phase, new[] { "Starting", "Preloading" });
        Assert.Equal((HttpStatusCode.OK, "Healthy"), (live.Code, live.Status));

        await app.WaitUntilReadyAsync();
        ready = await ProbeResponse.GetAsync(client, "/ifready");
        Assert.Equal((HttpStatusCode.OK, "Healthy", "Ready"), (ready.Code, ready.Status, ready.Phase));
    }

    [Fact]
    public async Task Leaving_FailsReadinessAtOnce_WhileLivenessAndTheAppKeepAnswering()
    {
        await using var app = new SampleAppFactory();
        using var client = app.CreateClient();
        await app.WaitUntilReadyAsync();

        var leave = app.Lifecycle.LeaveAsync();

        var ready = await ProbeResponse.GetAsync(client, "/ifready");
        var live = await ProbeResponse.GetAsync(client, "/health");
        using var root = await client.GetAsync("/");
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "Leaving"), (ready.Code, ready.Phase));
        Assert.Equal((HttpStatusCode.OK, "Leaving"), (live.Code, live.Phase));
        Assert.Equal(HttpStatusCode.OK, root.StatusCode);
        Assert.True(app.Lifecycle.Leaving.IsCancellationRequested);
        Assert.False(leave.IsCompleted);

        app.Time.Advance(TimeSpan.FromSeconds(5));
        await Eventually.DoneAsync(leave, "the shutdown delay");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await ProbeResponse.GetAsync(client, "/ifready")).Code);
    }

    [Fact]
    public async Task Liveness_Fails_OnlyWhenACheckTaggedLiveIsUnhealthy()
    {
        await using var app = new SampleAppFactory().WithServices(s => s.AddHealthChecks()
            .AddCheck("deadlock", () => HealthCheckResult.Unhealthy(), tags: ["live"])
            .AddCheck("untagged", () => HealthCheckResult.Unhealthy()));
        using var client = app.CreateClient();
        await app.WaitUntilReadyAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await ProbeResponse.GetAsync(client, "/health")).Code);
        Assert.Equal(HttpStatusCode.OK, (await ProbeResponse.GetAsync(client, "/ifready")).Code);
    }

    [Fact]
    public async Task Readiness_Fails_WhenACheckTaggedReadyIsUnhealthy_LivenessDoesNot()
    {
        await using var app = new SampleAppFactory().WithServices(s => s.AddHealthChecks()
            .AddCheck("database", () => HealthCheckResult.Unhealthy(), tags: ["ready"]));
        using var client = app.CreateClient();
        await app.WaitUntilReadyAsync();

        var ready = await ProbeResponse.GetAsync(client, "/ifready");
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "Unhealthy", "Ready"), (ready.Code, ready.Status, ready.Phase));
        Assert.Equal(HttpStatusCode.OK, (await ProbeResponse.GetAsync(client, "/health")).Code);
    }

    [Fact]
    public async Task Probes_AnswerHead_AndAreNeverCached()
    {
        await using var app = new SampleAppFactory();
        using var client = app.CreateClient();
        await app.WaitUntilReadyAsync();

        using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/ifready"));

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.True(head.Headers.CacheControl?.NoStore);
    }

    [Fact]
    public async Task Paths_AreConfigurable()
    {
        await using var app = new SampleAppFactory()
            .With("GracefulLifecycle:ReadinessPath", "/ready")
            .With("GracefulLifecycle:LivenessPath", "/live");
        using var client = app.CreateClient();
        await app.WaitUntilReadyAsync();

        Assert.Equal(HttpStatusCode.OK, (await ProbeResponse.GetAsync(client, "/ready")).Code);
        Assert.Equal(HttpStatusCode.OK, (await ProbeResponse.GetAsync(client, "/live")).Code);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/ifready")).StatusCode);
    }
}
