using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.TestSupport.Kubernetes;

namespace GracefulLifecycle.ProcessTests;

/// <summary>
/// The shutdown as the pod dictates it, on the sample as a real process with <c>AddKubernetes()</c> pointed at a fake
/// API server, a real SIGTERM, and (for a restart) a simulated kubelet probing readiness.
/// </summary>
public sealed class KubernetesShutdownProcessTests(ITestOutputHelper output)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task PodDeletedWithAShorterGracePeriod_ExitsBeforeItsDeadline_HavingAnsweredTheRequestInFlight()
    {
        // Planned: 10 s delay + 10 s drain + 2 s margin in a 30 s grace period; the deletion gives 8 s.
        await using var pod = await PodAsync(("GracefulLifecycle:ShutdownDelay", "00:00:10"), ("GracefulLifecycle:DrainTimeout", "00:00:10"));
        using var client = SampleProcess.NewClient();
        await pod.App.WaitUntilReadyAsync(client, StartTimeout);

        var slow = client.GetAsync(new Uri(pod.App.BaseAddress, "/slow?ms=3000"));
        await pod.App.WaitForLogAsync("Slow request started (3000 ms)", TimeSpan.FromSeconds(10));
        pod.Api.MarkDeleted(gracePeriodSeconds: 8);
        var clock = Stopwatch.StartNew();
        pod.App.Signal(SampleProcess.SIGTERM);

        using var response = await slow.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Waited 3000 ms\n", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, await pod.App.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var exited = clock.Elapsed;
        Measurements.Record(output.WriteLine, "pod deleted, grace 8 s: SIGTERM -> exit", exited.TotalMilliseconds);

        Assert.True(exited < TimeSpan.FromSeconds(8), $"exited {exited.TotalMilliseconds} ms after SIGTERM, past the 8 s the deletion gave");
        Assert.Contains("pod deleted with a grace period of 8 s (spec 30 s)", pod.App.Output, StringComparison.Ordinal);
        Assert.Contains("Shutdown fitted to the deadline", pod.App.Output, StringComparison.Ordinal);
        // What the pod read took was served as part of the delay: the rest of it was cut to the 2 s floor.
        Assert.Matches(@"fitted to the deadline \d+ ms away: delay \d+ -> 2000 ms, drain 10000 -> \d+ ms", pod.App.Output);
        Assert.DoesNotContain("aborting", pod.App.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ContainerRestartWithoutDeletion_Serves200UntilTheKubeletsThirdFailedProbe_ThenExits()
    {
        // The planned delay alone (1 s) is shorter than the kubelet's failover (3 probes, 1 s apart).
        await using var pod = await PodAsync(("GracefulLifecycle:ShutdownDelay", "00:00:01"), ("GracefulLifecycle:DrainTimeout", "00:00:05"));
        using var client = SampleProcess.NewClient();
        await pod.App.WaitUntilReadyAsync(client, StartTimeout);
        await using var kubelet = KubeletSimulator.Start(new Uri(pod.App.BaseAddress, "/ifready"), TimeSpan.FromSeconds(1), failureThreshold: 3);
        await kubelet.BecameReady.WaitAsync(TimeSpan.FromSeconds(10));

        var clock = Stopwatch.StartNew();
        await using var load = SteadyTraffic.Start(pod.App.BaseAddress, clock, TimeSpan.FromSeconds(30));
        await WaitAsync(() => load.Answers.Count >= 5, "traffic flows before the signal");
        var signalled = clock.Elapsed;
        var kubeletAtSignal = kubelet.Elapsed;
        pod.App.Signal(SampleProcess.SIGTERM);

        var removed = await kubelet.EndpointRemoved.WaitAsync(TimeSpan.FromSeconds(15));
        var removedAfterSignal = removed - kubeletAtSignal;
        await load.UntilRefusedAsync();
        Assert.Equal(0, await pod.App.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Measurements.Record(output.WriteLine, "restart: SIGTERM -> kubelet's third failed probe", removedAfterSignal.TotalMilliseconds);

        // Every request sent before the kubelet took the endpoint out, and for a while into the 1 s allowance after
        // (the kubelet marks it on receiving the answer the hold ended on), was answered 200.
        var (_, refusedAfterSignal) = load.AssertServedThrough(signalled, removedAfterSignal + TimeSpan.FromMilliseconds(500), "kubelet failover and allowance");
        Measurements.Record(output.WriteLine, "restart: SIGTERM -> first request refused", refusedAfterSignal.TotalMilliseconds);
        var failedProbes = kubelet.Probes.Where(p => p.At > kubeletAtSignal && !p.Success).ToList();
        Assert.True(failedProbes.Count >= 3, $"{failedProbes.Count} failed probes after SIGTERM");
        Assert.Contains("container restart, pod not deleted", pod.App.Output, StringComparison.Ordinal);
        Assert.Contains("until the kubelet's failed readiness probe 3 of 3", pod.App.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("hung")]
    [InlineData("dropping connections")]
    public async Task ApiServerGoneAtShutdown_TheShutdownIsTheOneWithoutThePackage(string failure)
    {
        var delay = TimeSpan.FromSeconds(3);
        await using var pod = await PodAsync(("GracefulLifecycle:ShutdownDelay", "00:00:03"), ("GracefulLifecycle:DrainTimeout", "00:00:05"));
        using var client = SampleProcess.NewClient();
        await pod.App.WaitUntilReadyAsync(client, StartTimeout);
        using var hold = failure == "hung" ? pod.Api.Hold() : null;
        pod.Api.Unavailable = failure != "hung";

        var clock = Stopwatch.StartNew();
        await using var load = SteadyTraffic.Start(pod.App.BaseAddress, clock, TimeSpan.FromSeconds(30));
        await WaitAsync(() => load.Answers.Count >= 5, "traffic flows before the signal");
        var signalled = clock.Elapsed;
        pod.App.Signal(SampleProcess.SIGTERM);

        await load.UntilRefusedAsync();
        Assert.Equal(0, await pod.App.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var exited = clock.Elapsed - signalled;
        Measurements.Record(output.WriteLine, $"API {failure}: SIGTERM -> exit", exited.TotalMilliseconds);

        // The delay planned, no more (the wait for the pod is part of it), then an idle drain.
        load.AssertServedThrough(signalled, delay, "shutdown delay");
        Assert.True(exited < delay + TimeSpan.FromSeconds(2), $"exited {exited.TotalMilliseconds} ms after SIGTERM: the API server held the shutdown");
        Assert.Contains("advice: none", pod.App.Output, StringComparison.Ordinal);
    }

    private async Task<KubernetesPod> PodAsync(params (string Key, string Value)[] settings)
    {
        var port = FreePort();
        var api = await FakeKubernetesApiServer.StartAsync(FakePod.Matching(port));
        try
        {
            var app = await SampleProcess.StartAsync(
                output,
                $"http://127.0.0.1:{port}",
                [("Sample:PreloadDuration", "00:00:00.200"), .. api.Configuration.Select(c => (c.Key, c.Value!)), .. settings]);
            return new KubernetesPod(api, app);
        }
        catch
        {
            await api.DisposeAsync();
            throw;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task WaitAsync(Func<bool> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), "timed out waiting for: " + what);
            await Task.Delay(20);
        }
    }

    private sealed class KubernetesPod(FakeKubernetesApiServer api, SampleProcess app) : IAsyncDisposable
    {
        public FakeKubernetesApiServer Api { get; } = api;

        public SampleProcess App { get; } = app;

        public async ValueTask DisposeAsync()
        {
            await App.DisposeAsync();
            await Api.DisposeAsync();
        }
    }
}
