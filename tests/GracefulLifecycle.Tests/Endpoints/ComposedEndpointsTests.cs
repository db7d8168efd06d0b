using System.Net;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Tests.Endpoints;

/// <summary>
/// The endpoints mapped one by one, on a management port, and next to .NET Aspire's <c>MapDefaultEndpoints</c>
/// (the ServiceDefaults template's code, copied below without its Development-only guard) on real Kestrel.
/// </summary>
public sealed class ComposedEndpointsTests
{
    [Fact]
    public async Task EachMappingCall_ReturnsItsOwnBuilder_AndRequireLocalPort_ServesThatEndpointOnlyOnThePort()
    {
        await using var app = await TwoPortApp.StartAsync(
            configure: _ => { },
            map: (app, management) =>
            {
                app.MapGet("/", () => "ok");
                app.MapGracefulLiveness();
                app.MapGracefulReadiness().RequireLocalPort(management);
                app.MapGracefulPreStop().RequireLocalPort(management);
            });
        await Eventually.DoneAsync(app.Lifecycle.Ready, "ready");

        Assert.Equal(HttpStatusCode.OK, (await ProbeResponse.GetAsync(app.AppClient, "/health")).Code);
        Assert.Equal(HttpStatusCode.OK, (await ProbeResponse.GetAsync(app.ManagementClient, "/health")).Code);
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(app.AppClient, "/ifready"));
        Assert.Equal(HttpStatusCode.OK, (await ProbeResponse.GetAsync(app.ManagementClient, "/ifready")).Code);
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(app.AppClient, "/prestop"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app.AppClient, "/"));
        Assert.Equal(LifecyclePhase.Ready, app.Lifecycle.Phase);
    }

    [Fact]
    public async Task AspireRecipe_MapDefaultEndpointsThenReadinessAndPreStop_HealthFollowsTheLifecycle_AliveDoesNot()
    {
        await using var app = await TwoPortApp.StartAsync(
            configure: AddDefaultHealthChecks,
            map: (app, _) =>
            {
                MapDefaultEndpoints(app);
                app.MapGracefulReadiness();
                app.MapGracefulPreStop();
            });
        await Eventually.DoneAsync(app.Lifecycle.Ready, "ready");

        Assert.Equal((HttpStatusCode.OK, "Healthy"), await TextAsync(app.AppClient, "/health"));
        Assert.Equal((HttpStatusCode.OK, "Healthy"), await TextAsync(app.AppClient, "/alive"));
        Assert.Equal(HttpStatusCode.OK, (await ProbeResponse.GetAsync(app.AppClient, "/ifready")).Code);

        _ = app.Lifecycle.LeaveAsync();

        // Aspire's /health runs every check, the lifecycle's among them: the orchestrator sees the instance leave.
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "Unhealthy"), await TextAsync(app.AppClient, "/health"));
        Assert.Equal((HttpStatusCode.OK, "Healthy"), await TextAsync(app.AppClient, "/alive"));
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "Leaving"), Probe(await ProbeResponse.GetAsync(app.AppClient, "/ifready")));
    }

    [Fact]
    public async Task AspireRecipe_TheLifecycleOnTheManagementPort_SharesTheHealthPathWithAspire_EachAnswersOnItsPort()
    {
        await using var app = await TwoPortApp.StartAsync(
            configure: AddDefaultHealthChecks,
            map: (app, management) =>
            {
                MapDefaultEndpoints(app);
                app.MapGracefulLifecycle().RequireLocalPort(management);
            });
        await Eventually.DoneAsync(app.Lifecycle.Ready, "ready");

        _ = app.Lifecycle.LeaveAsync();

        // Application port: Aspire's readiness over all checks. Management port: the lifecycle's liveness.
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "Unhealthy"), await TextAsync(app.AppClient, "/health"));
        Assert.Equal((HttpStatusCode.OK, "Leaving"), Probe(await ProbeResponse.GetAsync(app.ManagementClient, "/health")));
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "Leaving"), Probe(await ProbeResponse.GetAsync(app.ManagementClient, "/ifready")));
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(app.AppClient, "/ifready"));
    }

    [Fact]
    public async Task MapHealthChecksAtTheLivenessPath_AndMapGracefulLifecycle_FailsStartupNamingBoth()
    {
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => LifecycleTestHost.StartAsync(map: app => app.MapHealthChecks("/health")));

        Assert.Contains(
            "GracefulLifecycle:LivenessPath ('/health', GracefulLifecycle liveness) is also the path of 'Health checks' ('/health', every method) on every port",
            failure.Message,
            StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/health/")]
    [InlineData("/HEALTH")]
    public async Task AnApplicationEndpointAtTheLivenessPath_WithAnotherCaseOrATrailingSlash_FailsStartupNamingBoth(string path)
    {
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => LifecycleTestHost.StartAsync(map: app => app.MapGet(path, () => "mine").WithDisplayName("my status")));

        Assert.Contains($"GracefulLifecycle:LivenessPath ('/health', GracefulLifecycle liveness) is also the path of 'my status' ('{path}', GET)", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnApplicationEndpointAtTheLivenessPath_ForAnotherMethod_IsNoCollision()
    {
        await using var host = await LifecycleTestHost.StartAsync(map: app => app.MapPost("/health/", () => "posted"));
        using var client = new HttpClient { BaseAddress = host.BaseAddress };

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client, "/health"));
    }

    [Fact]
    public async Task TheAspireRecipe_StartsWithoutACollision()
    {
        await using var host = await LifecycleTestHost.StartAsync(
            services: s => s.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), ["live"]),
            map: app =>
            {
                app.MapHealthChecks("/health");
                app.MapHealthChecks("/alive", new HealthCheckOptions { Predicate = r => r.Tags.Contains("live") });
                app.MapGracefulReadiness();
                app.MapGracefulPreStop();
                app.MapGracefulLiveness().RequireLocalPort(9);
            },
            mapLifecycle: false);

        using var client = new HttpClient { BaseAddress = host.BaseAddress };

        // Aspire's liveness and the lifecycle's readiness path each answer as their own.
        Assert.Equal((HttpStatusCode.OK, "Healthy"), await TextAsync(client, "/alive"));
        Assert.NotNull((await ProbeResponse.GetAsync(client, "/ifready")).Phase);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65536)]
    public void RequireLocalPort_OutOfRange_Throws(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Services.AddGracefulLifecycle();
        using var app = builder.Build();

        Assert.Throws<ArgumentOutOfRangeException>(() => app.MapGracefulLiveness().RequireLocalPort(port));
    }

    // The .NET Aspire ServiceDefaults template (Extensions.cs), as an app that adopts the library has it.
    private static void AddDefaultHealthChecks(WebApplicationBuilder builder) =>
        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), ["live"]);

    private static void MapDefaultEndpoints(WebApplication app)
    {
        app.MapHealthChecks("/health");
        app.MapHealthChecks("/alive", new HealthCheckOptions { Predicate = r => r.Tags.Contains("live") });
    }

    private static (HttpStatusCode, string?) Probe(ProbeResponse response) => (response.Code, response.Phase);

    private static async Task<HttpStatusCode> StatusAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        return response.StatusCode;
    }

    private static async Task<(HttpStatusCode, string)> TextAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
