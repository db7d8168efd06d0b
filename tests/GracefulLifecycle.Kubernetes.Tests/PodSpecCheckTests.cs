using System.Text.Json;
using GracefulLifecycle.TestSupport.Kubernetes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Kubernetes.Tests;

/// <summary>
/// Each startup check, on a pod as the API server serves it (<see cref="FakePod"/>'s JSON): the spec that agrees passes,
/// each contradiction is found with a message that names the pod field and the option with their values.
/// </summary>
public sealed class PodSpecCheckTests
{
    private const int Port = 8080;

    [Fact]
    public void Check_PodThatAgreesWithTheDefaults_FindsNothing()
    {
        var findings = Check(FakePod.Matching(Port));

        Assert.Empty(findings);
    }

    [Fact]
    public void Check_GracePeriodShorterThanTheBudget_FailsNamingTheFieldAndTheOptions()
    {
        var pod = FakePod.Matching(Port);
        pod.TerminationGracePeriodSeconds = 20;

        var finding = Assert.Single(Check(pod), f => f.Message.StartsWith("spec.terminationGracePeriodSeconds (20)", StringComparison.Ordinal));

        Assert.True(finding.LosesRequests);
        Assert.Contains("27 s (delay 00:00:05 + GracefulLifecycle:DrainTimeout 00:00:20 + GracefulLifecycle:ShutdownMargin 00:00:02)", finding.Message, StringComparison.Ordinal);
        Assert.Contains("GracefulLifecycle:TerminationGracePeriod (00:00:30)", finding.Message, StringComparison.Ordinal);
        Assert.Contains("at least 27", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_GracePeriodLongerThanTheOptionsSay_AdvisesOnly()
    {
        var pod = FakePod.Matching(Port);
        pod.TerminationGracePeriodSeconds = 60;

        var finding = Assert.Single(Check(pod));

        Assert.False(finding.LosesRequests);
        Assert.Contains("GracefulLifecycle:TerminationGracePeriod (00:00:30) differs from spec.terminationGracePeriodSeconds (60)", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_NoReadinessProbe_Fails()
    {
        var pod = FakePod.Matching(Port);
        pod.Container.ReadinessProbe = null;

        var finding = Assert.Single(Check(pod));

        Assert.True(finding.LosesRequests);
        Assert.Contains("spec.containers[0].readinessProbe is not set", finding.Message, StringComparison.Ordinal);
        Assert.Contains("/ifready (GracefulLifecycle:ReadinessPath)", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_ReadinessOnTheLivenessPath_FailsNamingBothPaths()
    {
        var pod = FakePod.Matching(Port);
        pod.Container.ReadinessProbe!.Handler = FakeHandler.HttpGet("/health", "http");

        var finding = Assert.Single(Check(pod));

        Assert.True(finding.LosesRequests);
        Assert.Contains("spec.containers[0].readinessProbe.httpGet.path (/health) is the liveness endpoint (GracefulLifecycle:LivenessPath)", finding.Message, StringComparison.Ordinal);
        Assert.Contains("Use /ifready (GracefulLifecycle:ReadinessPath)", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_ReadinessOnTheConfiguredPath_Passes()
    {
        var pod = FakePod.Matching(Port);
        pod.Container.ReadinessProbe!.Handler = FakeHandler.HttpGet("/ready/?verbose=1", Port);

        Assert.Empty(Check(pod, o => o.ReadinessPath = "/ready"));
    }

    [Fact]
    public void Check_ReadinessOnAPathNobodyServes_Fails()
    {
        var pod = FakePod.Matching(Port);
        pod.Container.ReadinessProbe!.Handler = FakeHandler.HttpGet("/healthz", "http");

        var finding = Assert.Single(Check(pod));

        Assert.True(finding.LosesRequests);
        Assert.Contains("readinessProbe.httpGet.path (/healthz) is not served (the lifecycle's is /ifready, GracefulLifecycle:ReadinessPath)", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_ReadinessOnAnEndpointOfTheApplication_AdvisesOnly()
    {
        var pod = FakePod.Matching(Port);
        pod.Container.ReadinessProbe!.Handler = FakeHandler.HttpGet("/healthz", "http");

        var finding = Assert.Single(Check(pod, mapped: ["/healthz"]));

        Assert.False(finding.LosesRequests);
        Assert.Contains("GracefulLifecycle health check", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_ProbeOnAPortTheServerDoesNotListenOn_FailsNamingBothPorts()
    {
        var pod = FakePod.Matching(Port);
        pod.Container.LivenessProbe!.Handler = FakeHandler.HttpGet("/health", 9000);

        var finding = Assert.Single(Check(pod));

        Assert.True(finding.LosesRequests);
        Assert.Contains("spec.containers[0].livenessProbe.httpGet.port (9000 = 9000) is not a port the server listens on (8080,", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_ProbeOnAnUndeclaredPortName_Fails()
    {
        var pod = FakePod.Matching(Port);
        pod.Container.ReadinessProbe!.Handler = FakeHandler.HttpGet("/ifready", "web");

        var finding = Assert.Single(Check(pod));

        Assert.Contains("readinessProbe.httpGet.port (web) names no port of container 'app' (ports: http=8080)", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_ReadinessTcpSocket_Fails()
    {
        var pod = FakePod.Matching(Port);
        pod.Container.ReadinessProbe!.Handler = FakeHandler.TcpSocket("http");

        var finding = Assert.Single(Check(pod));

        Assert.True(finding.LosesRequests);
        Assert.Contains("spec.containers[0].readinessProbe.tcpSocket", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_ReadinessFailoverLongerThanTheGraceAllows_FailsNamingBothSides()
    {
        var pod = FakePod.Matching(Port);
        pod.Container.ReadinessProbe!.PeriodSeconds = 10;

        var finding = Assert.Single(Check(pod));

        Assert.True(finding.LosesRequests);
        Assert.Contains(
            "spec.containers[0].readinessProbe.periodSeconds (10) × failureThreshold (3) = 30 s, + GracefulLifecycle:DrainTimeout (00:00:20) + GracefulLifecycle:ShutdownMargin (00:00:02) = 52 s exceeds spec.terminationGracePeriodSeconds (30)",
            finding.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Check_ReadinessFailoverThatJustFits_Passes()
    {
        var pod = FakePod.Matching(Port);
        pod.Container.ReadinessProbe!.PeriodSeconds = 2;
        pod.Container.ReadinessProbe.FailureThreshold = 4;

        Assert.Empty(Check(pod));
    }

    [Fact]
    public void Check_LivenessOnTheReadinessPath_Fails()
    {
        var pod = FakePod.Matching(Port);
        pod.Container.LivenessProbe!.Handler = FakeHandler.HttpGet("/ifready", "http");

        var finding = Assert.Single(Check(pod));

        Assert.True(finding.LosesRequests);
        Assert.Contains("livenessProbe.httpGet.path (/ifready) is the readiness endpoint (GracefulLifecycle:ReadinessPath)", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_LivenessWindowShorterThanTheDrain_AdvisesOnly()
    {
        var pod = FakePod.Matching(Port);
        pod.Container.LivenessProbe!.PeriodSeconds = 5;

        var finding = Assert.Single(Check(pod));

        Assert.False(finding.LosesRequests);
        Assert.Contains("livenessProbe.periodSeconds (5) × failureThreshold (3) = 15 s is shorter than GracefulLifecycle:DrainTimeout (00:00:20)", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_StartupProbeOnReadinessOrLiveness_Passes()
    {
        var ready = FakePod.Matching(Port);
        ready.Container.StartupProbe = new FakeProbe(FakeHandler.HttpGet("/ifready", "http")) { FailureThreshold = 30 };
        var live = FakePod.Matching(Port);
        live.Container.StartupProbe = new FakeProbe(FakeHandler.HttpGet("/health", "http")) { FailureThreshold = 30 };

        Assert.Empty(Check(ready));
        Assert.Empty(Check(live));
    }

    [Fact]
    public void Check_ProbeOnThePreStopPath_Fails()
    {
        var pod = FakePod.Matching(Port);
        pod.Container.StartupProbe = new FakeProbe(FakeHandler.HttpGet("/prestop", "http"));

        var finding = Assert.Single(Check(pod));

        Assert.Contains("startupProbe.httpGet.path (/prestop) is the preStop endpoint (GracefulLifecycle:PreStopPath)", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_PreStopSleepTheOptionsDoNotCount_PushingPastTheGrace_FailsNamingBothSides()
    {
        var pod = FakePod.Matching(Port);
        pod.Container.PreStop = FakeHandler.Sleep(5);

        var finding = Assert.Single(Check(pod));

        Assert.True(finding.LosesRequests);
        Assert.Contains("spec.containers[0].lifecycle.preStop.sleep.seconds (5) sleeps 5 s, but GracefulLifecycle:PreStop:Sleep counts 00:00:00", finding.Message, StringComparison.Ordinal);
        Assert.Contains("= 32 s exceeds spec.terminationGracePeriodSeconds (30)", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_PreStopSleepTheOptionsDoNotCount_WithinTheGrace_AdvisesOnly()
    {
        var pod = FakePod.Matching(Port);
        pod.Container.PreStop = FakeHandler.Exec("/bin/sh", "-c", "sleep 5");

        var finding = Assert.Single(Check(pod, o => o.DrainTimeout = TimeSpan.FromSeconds(10)));

        Assert.False(finding.LosesRequests);
        Assert.Contains("lifecycle.preStop.exec.command (/bin/sh -c sleep 5) sleeps 5 s, but GracefulLifecycle:PreStop:Sleep counts 00:00:00", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_PreStopSleepShorterThanCounted_FailsNamingBothSides()
    {
        var pod = FakePod.Matching(Port);
        pod.Container.PreStop = FakeHandler.Exec("sleep", "3");

        var finding = Assert.Single(Check(pod, o => o.PreStop.Sleep = TimeSpan.FromSeconds(5)));

        Assert.True(finding.LosesRequests);
        Assert.Contains("lifecycle.preStop.exec.command (sleep 3) sleeps 3 s, less than GracefulLifecycle:PreStop:Sleep (00:00:05)", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_PreStopSleepCountedButAbsent_Fails()
    {
        var finding = Assert.Single(Check(FakePod.Matching(Port), o => o.PreStop.Sleep = TimeSpan.FromSeconds(5)));

        Assert.True(finding.LosesRequests);
        Assert.Contains("GracefulLifecycle:PreStop:Sleep (00:00:05) counts a preStop sleep, but spec.containers[0].lifecycle.preStop has no sleep (no preStop hook)", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_PreStopSleepAsCounted_Passes()
    {
        var pod = FakePod.Matching(Port);
        pod.Container.PreStop = FakeHandler.Sleep(5);

        Assert.Empty(Check(pod, o => o.PreStop.Sleep = TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void Check_PreStopHttpGetWithTheToken_Passes()
    {
        var pod = FakePod.Matching(Port);
        pod.Container.PreStop = FakeHandler.HttpGet("/prestop", "http", ("X-PreStop-Token", "s3cret-value"));

        Assert.Empty(Check(pod, o => o.PreStop.Token = "s3cret-value"));
    }

    [Fact]
    public void Check_PreStopHttpGetWithoutTheTokenHeader_FailsNamingTheHeaderAndTheOption()
    {
        var pod = FakePod.Matching(Port);
        pod.Container.PreStop = FakeHandler.HttpGet("/prestop", "http");

        var finding = Assert.Single(Check(pod, o => o.PreStop.Token = "s3cret-value"));

        Assert.True(finding.LosesRequests);
        Assert.Contains("spec.containers[0].lifecycle.preStop.httpGet.httpHeaders has no X-PreStop-Token header", finding.Message, StringComparison.Ordinal);
        Assert.Contains("GracefulLifecycle:PreStop:Token requires", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_PreStopHttpGetWithAnotherToken_FailsWithoutShowingEitherToken()
    {
        var pod = FakePod.Matching(Port);
        pod.Container.PreStop = FakeHandler.HttpGet("/prestop", "http", ("x-prestop-token", "old-value"));

        var finding = Assert.Single(Check(pod, o => o.PreStop.Token = "s3cret-value"));

        Assert.Contains("httpHeaders sends X-PreStop-Token with another value than GracefulLifecycle:PreStop:Token", finding.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("old-value", finding.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-value", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_PreStopHttpGetOnLoopbackOnlyEndpoint_Fails()
    {
        var pod = FakePod.Matching(Port);
        pod.Container.PreStop = FakeHandler.HttpGet("/prestop", "http");

        var finding = Assert.Single(Check(pod));

        Assert.Contains("accepts loopback callers only", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_PreStopHttpGetOnAnotherPathAndPort_FailsForEach()
    {
        var pod = FakePod.Matching(Port);
        pod.Container.PreStop = FakeHandler.HttpGet("/shutdown", Port, ("X-PreStop-Token", "t"));

        var findings = Check(pod, o =>
        {
            o.PreStop.Token = "t";
            o.PreStop.ManagementPort = 9090;
        }, ports: [Port, 9090]);

        Assert.Contains(findings, f => f.Message.Contains("lifecycle.preStop.httpGet.path (/shutdown) is not the preStop endpoint /prestop (GracefulLifecycle:PreStopPath)", StringComparison.Ordinal));
        Assert.Contains(findings, f => f.Message.Contains("lifecycle.preStop.httpGet.port (8080 = 8080) is not GracefulLifecycle:PreStop:ManagementPort (9090)", StringComparison.Ordinal));
        Assert.All(findings, f => Assert.True(f.LosesRequests));
    }

    [Fact]
    public void Check_SeveralContainers_PicksTheOneServingTheListeningPort()
    {
        var pod = FakePod.Matching(Port);
        pod.Container.ReadinessProbe = null;
        var sidecar = new FakeContainer { Name = "proxy" };
        sidecar.Ports.Add(new FakeContainerPort("admin", 15000));
        pod.Containers.Insert(0, sidecar);

        var finding = Assert.Single(Check(pod));

        Assert.Contains("spec.containers[1].readinessProbe is not set (container 'app')", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_ContainerNameNotInThePod_Fails()
    {
        var finding = Assert.Single(Check(FakePod.Matching(Port), container: "web"));

        Assert.True(finding.LosesRequests);
        Assert.Contains("GracefulLifecycle:Kubernetes:ContainerName is 'web', but pod shop/app-7d4b9c6f5-x2x9q has no such container (spec.containers: app)", finding.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "sleep", "5" }, 5.0)]
    [InlineData(new[] { "/bin/sleep", "2.5s" }, 2.5)]
    [InlineData(new[] { "sh", "-c", "sleep 10" }, 10.0)]
    [InlineData(new[] { "/bin/sh", "-c", "curl -s localhost/prestop" }, null)]
    [InlineData(new[] { "sleep" }, null)]
    public void ExecSleep_Command_ReadsTheSeconds(string[] command, double? seconds)
    {
        Assert.Equal(seconds is { } s ? TimeSpan.FromSeconds(s) : null, PodSpecCheck.ExecSleep(command));
    }

    internal static KubernetesPod Parse(FakePod pod)
    {
        using var document = JsonDocument.Parse(pod.ToJson().ToJsonString());
        return KubernetesPod.Parse(document.RootElement);
    }

    private static IReadOnlyList<PodFinding> Check(
        FakePod pod, Action<GracefulLifecycleOptions>? configure = null, int[]? ports = null, string[]? mapped = null, string? container = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddGracefulLifecycle(o => configure?.Invoke(o));
        using var provider = services.BuildServiceProvider();
        var input = new PodCheckInput(
            provider.GetRequiredService<IOptions<GracefulLifecycleOptions>>().Value,
            provider.GetRequiredService<ShutdownTimings>(),
            new HashSet<int>(ports ?? [Port]),
            path => mapped?.Contains(path) ?? false,
            container);
        return PodSpecCheck.Check(Parse(pod), input);
    }
}
