using System.Net;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.TestSupport.Kubernetes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Kubernetes.Tests;

/// <summary>
/// The startup check in a real host on real Kestrel, reading a fake API server: a pod that agrees starts, one that
/// contradicts the options fails the start (the exception the lifecycle turns into exit code 1) or, with
/// <c>OnMismatch=Warn</c>, starts with warnings; a pod that cannot be read changes nothing but one warning.
/// </summary>
public sealed class KubernetesStartupTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Start_PodThatAgrees_StartsReadsOnceAndSaysSo()
    {
        var port = KubernetesHost.FreePort();
        await using var api = await FakeKubernetesApiServer.StartAsync(Pod(port));
        var logs = new CapturingLoggerProvider();

        await using var host = await KubernetesHost.StartAsync(api, port, logs);
        await host.Lifecycle.Ready.WaitAsync(Deadline);

        Assert.Equal(1, api.RequestCount);
        Assert.Contains(logs.Collector.GetSnapshot(), r => r.Id.Name == "KubernetesSpecMatches");
        Assert.DoesNotContain(logs.Collector.GetSnapshot(), r => r.Level >= LogLevel.Warning && r.Id.Id is >= 300 and < 330);
        var snapshot = host.Services.GetRequiredService<PodSnapshot>();
        Assert.Equal(api.Pod.Name, snapshot.Pod?.Name);
        Assert.Equal("app", snapshot.Container?.Name);
    }

    [Fact]
    public async Task Start_GracePeriodShorterThanTheBudget_FailsNamingTheFieldAndTheOption()
    {
        var port = KubernetesHost.FreePort();
        var pod = Pod(port);
        pod.TerminationGracePeriodSeconds = 20;
        await using var api = await FakeKubernetesApiServer.StartAsync(pod);
        var logs = new CapturingLoggerProvider();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => KubernetesHost.StartAsync(
            api, port, logs, new Dictionary<string, string?> { ["GracefulLifecycle:ShutdownDelay"] = "00:00:05" }));

        Assert.Equal(typeof(KubernetesOptions), error.OptionsType);
        var failure = Assert.Single(error.Failures, f => f.Contains(": spec.terminationGracePeriodSeconds (20)", StringComparison.Ordinal));
        Assert.StartsWith($"Pod shop/{pod.Name}: spec.terminationGracePeriodSeconds (20) is shorter than the shutdown budget, 27 s", failure, StringComparison.Ordinal);
        Assert.Contains("GracefulLifecycle:TerminationGracePeriod (00:00:30)", failure, StringComparison.Ordinal);
        Assert.Contains("GracefulLifecycle:Kubernetes:OnMismatch=Warn", error.Failures.Last(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_ProbeOnAPortTheServerDoesNotListenOn_Fails()
    {
        var port = KubernetesHost.FreePort();
        var pod = Pod(port);
        pod.Container.ReadinessProbe!.Handler = FakeHandler.HttpGet("/ifready", port + 1);
        await using var api = await FakeKubernetesApiServer.StartAsync(pod);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => KubernetesHost.StartAsync(api, port, new CapturingLoggerProvider()));

        Assert.Contains(error.Failures, f => f.Contains($"readinessProbe.httpGet.port ({port + 1} = {port + 1}) is not a port the server listens on ({port}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Start_ReadinessOnAnEndpointTheApplicationMaps_StartsWithAdvice()
    {
        var port = KubernetesHost.FreePort();
        var pod = Pod(port);
        pod.Container.ReadinessProbe!.Handler = FakeHandler.HttpGet("/healthz/ready", "http");
        await using var api = await FakeKubernetesApiServer.StartAsync(pod);
        var logs = new CapturingLoggerProvider();

        await using var host = await KubernetesHost.StartAsync(api, port, logs, map: app => app.MapGet("/healthz/ready", () => "ok"));

        var advice = Assert.Single(logs.Collector.GetSnapshot(), r => r.Id.Name == "KubernetesSpecAdvice");
        Assert.Contains("readinessProbe.httpGet.path (/healthz/ready) is an endpoint of the application", advice.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_MismatchWithOnMismatchWarn_StartsAndWarnsNamingBothSides()
    {
        var port = KubernetesHost.FreePort();
        var pod = Pod(port);
        pod.Container.PreStop = FakeHandler.Sleep(3);
        await using var api = await FakeKubernetesApiServer.StartAsync(pod);
        var logs = new CapturingLoggerProvider();

        await using var host = await KubernetesHost.StartAsync(api, port, logs, new Dictionary<string, string?>
        {
            ["GracefulLifecycle:PreStop:Sleep"] = "00:00:05",
            ["GracefulLifecycle:ShutdownDelay"] = "00:00:05",
            ["GracefulLifecycle:Kubernetes:OnMismatch"] = "Warn",
        });
        await host.Lifecycle.Ready.WaitAsync(Deadline);

        var warning = Assert.Single(logs.Collector.GetSnapshot(), r => r.Id.Name == "KubernetesSpecMismatch");
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("spec.containers[0].lifecycle.preStop.sleep.seconds (3) sleeps 3 s, less than GracefulLifecycle:PreStop:Sleep (00:00:05)", warning.Message, StringComparison.Ordinal);
        Assert.Contains("starting anyway: GracefulLifecycle:Kubernetes:OnMismatch is Warn", warning.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(403, "KubernetesForbidden")]
    [InlineData(401, "KubernetesUnauthorized")]
    [InlineData(404, "KubernetesPodNotFound")]
    public async Task Start_ApiRefuses_StartsAsWithoutThePackageWithOneWarning(int status, string eventName)
    {
        var port = KubernetesHost.FreePort();
        var pod = Pod(port);

        // A spec that would fail the start if it were read.
        pod.TerminationGracePeriodSeconds = 1;
        await using var api = await FakeKubernetesApiServer.StartAsync(pod);
        api.FailWith(status);
        var logs = new CapturingLoggerProvider();

        await using var host = await KubernetesHost.StartAsync(api, port, logs);

        await AssertServesAsWithoutThePackageAsync(host, logs, eventName);
    }

    [Fact]
    public async Task Start_ApiUnreachable_StartsAsWithoutThePackageWithOneWarning()
    {
        var port = KubernetesHost.FreePort();
        var pod = Pod(port);
        pod.TerminationGracePeriodSeconds = 1;
        await using var api = await FakeKubernetesApiServer.StartAsync(pod);
        api.Unavailable = true;
        var logs = new CapturingLoggerProvider();

        await using var host = await KubernetesHost.StartAsync(api, port, logs);

        await AssertServesAsWithoutThePackageAsync(host, logs, "KubernetesUnreachable");
    }

    [Fact]
    public async Task Start_ApiHangs_StartsOnceTheRequestTimeoutHasPassed()
    {
        var port = KubernetesHost.FreePort();
        var pod = Pod(port);
        pod.TerminationGracePeriodSeconds = 1;
        await using var api = await FakeKubernetesApiServer.StartAsync(pod);
        using var hold = api.Hold();
        var time = new FakeTimeProvider();
        var logs = new CapturingLoggerProvider();

        var start = KubernetesHost.StartAsync(api, port, logs, time: time);
        Assert.True(await api.WaitForRequestsAsync(1, Deadline));
        Assert.False(start.IsCompleted);
        time.Advance(KubernetesOptions.DefaultRequestTimeout);
        await using var host = await start.WaitAsync(Deadline);

        await AssertServesAsWithoutThePackageAsync(host, logs, "KubernetesUnreachable");
    }

    private static async Task AssertServesAsWithoutThePackageAsync(KubernetesHost host, CapturingLoggerProvider logs, string eventName)
    {
        await host.Lifecycle.Ready.WaitAsync(Deadline);
        using var client = new HttpClient { BaseAddress = host.BaseAddress };
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/ifready", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/", UriKind.Relative))).StatusCode);
        var package = logs.Collector.GetSnapshot().Where(r => r.Id.Id is >= 300 and < 330 && r.Level >= LogLevel.Information).ToArray();
        var warning = Assert.Single(package);
        Assert.Equal(eventName, warning.Id.Name);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("the lifecycle runs as without GracefulLifecycle.Kubernetes", warning.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Null(host.Services.GetRequiredService<PodSnapshot>().Pod);
    }

    private static FakePod Pod(int port) => FakePod.Matching(port);
}
