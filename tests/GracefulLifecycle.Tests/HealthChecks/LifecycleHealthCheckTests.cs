using System.Net;
using System.Text.Json;
using GracefulLifecycle.HealthChecks;
using GracefulLifecycle.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Tests.HealthChecks;

public sealed class LifecycleHealthCheckTests
{
    [Fact]
    public async Task AnAppsOwnMapHealthChecks_IsUnhealthyBeforeReady_HealthyWhenReady_AndUnhealthyTheMomentLeavingStarts()
    {
        var preload = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await LifecycleTestHost.StartAsync(
            configure: b => b.AddPreload("gate", (_, _) => preload.Task),
            map: app => app.MapHealthChecks("/hc", new HealthCheckOptions { ResponseWriter = WritePhaseAsync }));
        using var client = new HttpClient { BaseAddress = host.BaseAddress };

        Assert.Equal((HttpStatusCode.ServiceUnavailable, "Unhealthy", "Preloading"), await GetAsync(client, "/hc"));

        preload.SetResult();
        await Eventually.DoneAsync(host.Lifecycle.Ready, "ready");
        Assert.Equal((HttpStatusCode.OK, "Healthy", "Ready"), await GetAsync(client, "/hc"));

        _ = host.Lifecycle.LeaveAsync();
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "Unhealthy", "Leaving"), await GetAsync(client, "/hc"));
    }

    [Fact]
    public void TheCheck_IsTaggedWithTheReadinessTag_AndNeverWithTheLivenessTag()
    {
        var services = new ServiceCollection();
        services.AddGracefulLifecycle(o => o.ReadinessTag = "rdy");
        using var provider = services.BuildServiceProvider();

        var registration = Assert.Single(
            provider.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations, r => r.Name == LifecycleHealthCheck.Name);
        Assert.Equal(["rdy"], registration.Tags);
    }

    [Fact]
    public void TheCheck_IsAddedOnce_WhenAddGracefulLifecycleIsCalledTwice()
    {
        var services = new ServiceCollection();
        services.AddGracefulLifecycle();
        services.AddGracefulLifecycle();
        using var provider = services.BuildServiceProvider();

        Assert.Single(provider.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations, r => r.Name == LifecycleHealthCheck.Name);
    }

    [Theory]
    [InlineData(LifecyclePhase.Starting, HealthStatus.Unhealthy)]
    [InlineData(LifecyclePhase.Preloading, HealthStatus.Unhealthy)]
    [InlineData(LifecyclePhase.Registering, HealthStatus.Unhealthy)]
    [InlineData(LifecyclePhase.Ready, HealthStatus.Healthy)]
    [InlineData(LifecyclePhase.Leaving, HealthStatus.Unhealthy)]
    [InlineData(LifecyclePhase.Draining, HealthStatus.Unhealthy)]
    [InlineData(LifecyclePhase.Stopped, HealthStatus.Unhealthy)]
    public void TheCheck_IsHealthyOnlyWhenReady_WithThePhaseInItsData(LifecyclePhase phase, HealthStatus expected)
    {
        var result = LifecycleHealthCheck.Evaluate(phase);

        Assert.Equal(expected, result.Status);
        Assert.Equal(phase.ToString(), result.Data["phase"]);
    }

    [Fact]
    public async Task Readiness_WithHealthCheckOptions_IncludesUntaggedChecks_ItsStatusCodes_AndTheLifecycleEntry()
    {
        var status = HealthStatus.Healthy;
        await using var host = await LifecycleTestHost.StartAsync(
            services: s => s.AddHealthChecks().AddCheck("untagged", () => new HealthCheckResult(status)),
            map: app => app.MapGracefulReadiness(new HealthCheckOptions
            {
                ResponseWriter = WriteEntriesAsync,
                ResultStatusCodes = { [HealthStatus.Degraded] = StatusCodes.Status503ServiceUnavailable },
            }),
            mapLifecycle: false);
        using var client = new HttpClient { BaseAddress = host.BaseAddress };
        await Eventually.DoneAsync(host.Lifecycle.Ready, "ready");

        using (var ok = await client.GetAsync("/ifready"))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("Healthy;GracefulLifecycle=Healthy:Ready;untagged=Healthy", await ok.Content.ReadAsStringAsync());
        }

        // The default readiness ignores untagged checks; with a null predicate they count, as in MapHealthChecks.
        status = HealthStatus.Degraded;
        using (var degraded = await client.GetAsync("/ifready"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, degraded.StatusCode);
            Assert.Equal("Degraded;GracefulLifecycle=Healthy:Ready;untagged=Degraded", await degraded.Content.ReadAsStringAsync());
        }

        status = HealthStatus.Healthy;
        _ = host.Lifecycle.LeaveAsync();
        using var leaving = await client.GetAsync("/ifready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, leaving.StatusCode);
        Assert.Equal("Unhealthy;GracefulLifecycle=Unhealthy:Leaving;untagged=Healthy", await leaving.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Readiness_WithAPredicate_RunsOnlyTheChecksItSelects()
    {
        await using var host = await LifecycleTestHost.StartAsync(
            services: s => s.AddHealthChecks()
                .AddCheck("db", () => HealthCheckResult.Healthy(), tags: ["db"])
                .AddCheck("broken", () => HealthCheckResult.Unhealthy()),
            map: app => app.MapGracefulReadiness(new HealthCheckOptions { Predicate = r => r.Tags.Contains("db"), ResponseWriter = WriteEntriesAsync }),
            mapLifecycle: false);
        using var client = new HttpClient { BaseAddress = host.BaseAddress };
        await Eventually.DoneAsync(host.Lifecycle.Ready, "ready");

        using var response = await client.GetAsync("/ifready");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy;GracefulLifecycle=Healthy:Ready;db=Healthy", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public void MapGracefulReadiness_WithoutAddGracefulLifecycle_ThrowsNamingTheMissingCall()
    {
        using var app = WebApplication.CreateSlimBuilder().Build();

        var failure = Assert.Throws<InvalidOperationException>(() => app.MapGracefulReadiness());

        Assert.Contains("'IServiceCollection.AddGracefulLifecycle()' in the application startup code before calling 'MapGracefulReadiness()'", failure.Message, StringComparison.Ordinal);
    }

    private static Task WritePhaseAsync(HttpContext context, HealthReport report)
    {
        var phase = report.Entries[LifecycleHealthCheck.Name].Data["phase"];
        return context.Response.WriteAsync(JsonSerializer.Serialize(new { status = report.Status.ToString(), phase }));
    }

    private static Task WriteEntriesAsync(HttpContext context, HealthReport report)
    {
        var entries = report.Entries.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e =>
            e.Key == LifecycleHealthCheck.Name ? $"{e.Key}={e.Value.Status}:{e.Value.Data["phase"]}" : $"{e.Key}={e.Value.Status}");
        return context.Response.WriteAsync(string.Join(';', [report.Status.ToString(), .. entries]));
    }

    private static async Task<(HttpStatusCode Code, string Status, string Phase)> GetAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, json.RootElement.GetProperty("status").GetString()!, json.RootElement.GetProperty("phase").GetString()!);
    }
}

public sealed class PhaseAwareHealthCheckServiceTests
{
    [Fact]
    public async Task TheLifecycleCheck_UnhealthyBeforeReady_LogsNoError_WhileAnApplicationCheckThatFails_StillLogsItsError()
    {
        using var logs = new CapturingLoggerProvider();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        services.AddGracefulLifecycle();
        services.AddHealthChecks()
            .AddCheck("before", () => HealthCheckResult.Healthy())
            .AddCheck("db", () => HealthCheckResult.Unhealthy("down"));
        await using var provider = services.BuildServiceProvider();

        var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.Equal([LifecycleHealthCheck.Name, "before", "db"], report.Entries.Keys);
        var ours = report.Entries[LifecycleHealthCheck.Name];
        Assert.Equal((HealthStatus.Unhealthy, "Starting"), (ours.Status, ours.Data[LifecycleHealthCheck.PhaseKey]));
        Assert.Equal(["ready"], ours.Tags);

        var errors = logs.Collector.GetSnapshot().Where(r => r.Level >= LogLevel.Error).Select(r => r.Message).ToList();
        Assert.Contains(errors, m => m.Contains("Health check db with status Unhealthy", StringComparison.Ordinal));
        Assert.DoesNotContain(errors, m => m.Contains(LifecycleHealthCheck.Name, StringComparison.Ordinal));
    }

    [Fact]
    public async Task APredicate_ThatLeavesTheLifecycleCheckOut_ReportsOnlyTheOthers()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddGracefulLifecycle();
        services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), ["live"]);
        await using var provider = services.BuildServiceProvider();

        var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Tags.Contains("live"));

        Assert.Equal(HealthStatus.Healthy, report.Status);
        Assert.Equal(["self"], report.Entries.Keys);
    }

    [Fact]
    public async Task ACheckTheApplicationRegistered_UnderTheLifecyclesName_RunsAsItsOwn()
    {
        using var logs = new CapturingLoggerProvider();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(logs));
        services.AddHealthChecks().AddCheck(LifecycleHealthCheck.Name, () => HealthCheckResult.Unhealthy("mine"));
        services.AddGracefulLifecycle();
        await using var provider = services.BuildServiceProvider();

        var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        Assert.Equal("mine", report.Entries[LifecycleHealthCheck.Name].Description);
        Assert.Contains(logs.Collector.GetSnapshot(), r => r.Level == LogLevel.Error && r.Message.Contains("with message 'mine'", StringComparison.Ordinal));
    }
}
