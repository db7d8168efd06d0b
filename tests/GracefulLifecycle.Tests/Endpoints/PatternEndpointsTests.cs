using System.Net;
using GracefulLifecycle.Hosting;
using GracefulLifecycle.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Tests.Endpoints;

/// <summary>The Map* overloads that take a route pattern, as <c>MapHealthChecks(pattern)</c> does, on real Kestrel.</summary>
public sealed class PatternEndpointsTests
{
    [Fact]
    public async Task MappedAtPatterns_TheEndpointsAnswerThere_NotAtTheOptionPaths_AndTheRegistriesAreToldThePatterns()
    {
        await using var host = await LifecycleTestHost.StartAsync(
            map: app =>
            {
                app.MapGracefulLiveness("/healthz");
                app.MapGracefulReadiness("/readyz");
                app.MapGracefulPreStop("/internal/prestop");
            },
            mapLifecycle: false);
        await Eventually.DoneAsync(host.Lifecycle.Ready, "ready");
        using var client = new HttpClient { BaseAddress = host.BaseAddress };

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client, HttpMethod.Get, "/healthz"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client, HttpMethod.Head, "/readyz"));
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(client, HttpMethod.Get, "/health"));
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(client, HttpMethod.Get, "/ifready"));
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(client, HttpMethod.Post, "/prestop"));

        var instance = host.Services.GetRequiredService<InstanceAddress>().Describe();
        Assert.Equal(("/readyz", "/healthz"), (instance.ReadinessPath, instance.LivenessPath));

        // The preStop endpoint is there: it starts leaving, and readiness at its pattern fails from then on.
        var preStop = client.PostAsync(new Uri("/internal/prestop", UriKind.Relative), null);
        await Eventually.TrueAsync(() => host.Lifecycle.Phase == LifecyclePhase.Leaving, "leaving after the preStop call");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await StatusAsync(client, HttpMethod.Get, "/readyz"));
        await host.AdvanceUntilAsync(() => preStop.IsCompleted, "the preStop call answered after the delay");
        Assert.Equal(HttpStatusCode.OK, (await preStop).StatusCode);
    }

    [Fact]
    public async Task MappedUnderARouteGroup_TheRegistriesAreToldThePathWithItsPrefix()
    {
        await using var host = await LifecycleTestHost.StartAsync(map: app => app.MapGroup("/internal").MapGracefulLifecycle(), mapLifecycle: false);

        var instance = host.Services.GetRequiredService<InstanceAddress>().Describe();

        Assert.Equal(("/internal/ifready", "/internal/health"), (instance.ReadinessPath, instance.LivenessPath));
    }

    [Theory]
    [InlineData("healthz")]
    [InlineData("/health/{check}")]
    [InlineData("/health/{**rest}")]
    [InlineData("/health?full=1")]
    [InlineData("/a//b")]
    public async Task MappedAtAPattern_ThatIsNotAPlainPath_ThrowsNamingTheMethodThePatternAndTheRule(string pattern)
    {
        ArgumentException? failure = null;
        await using var host = await LifecycleTestHost.StartAsync(
            map: app => failure = Assert.Throws<ArgumentException>(() => app.MapGracefulLiveness(pattern)),
            mapLifecycle: false);

        Assert.NotNull(failure);
        Assert.Equal("pattern", failure.ParamName);
        Assert.Contains($"MapGracefulLiveness: '{pattern}' must be a plain path starting with '/', such as /healthz", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MappedAtAPattern_ThatIsTheReadinessPathInAnotherCase_FailsStartupNamingThePatternAndTheOption()
    {
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => LifecycleTestHost.StartAsync(map: app => app.MapGracefulLiveness("/IfReady/")));

        Assert.Contains(
            "the pattern of MapGracefulLiveness ('/IfReady/', GracefulLifecycle liveness) is also the path of 'GracefulLifecycle readiness' ('/ifready', GET|HEAD) on every port",
            failure.Message,
            StringComparison.Ordinal);
        Assert.Contains("Change the pattern of MapGracefulLiveness, map the other endpoint elsewhere", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MappedAtAPattern_OnAnotherMethodOnlyOrAnotherPath_IsNoCollision()
    {
        await using var host = await LifecycleTestHost.StartAsync(map: app =>
        {
            app.MapGracefulLiveness("/livez");
            app.MapPost("/livez", () => "posted");
        });
        using var client = new HttpClient { BaseAddress = host.BaseAddress };

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client, HttpMethod.Get, "/livez"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client, HttpMethod.Get, "/health"));
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient client, HttpMethod method, string path)
    {
        using var request = new HttpRequestMessage(method, path);
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }
}
