using System.Net;
using System.Net.Sockets;
using GracefulLifecycle.TestSupport.Kubernetes;

namespace GracefulLifecycle.ProcessTests;

/// <summary>
/// The sample as a real process with <c>AddKubernetes()</c> wired from configuration, reading its pod from a fake API
/// server: a spec that contradicts the options ends the start with exit code 1 and a message naming both sides; an
/// API that cannot be reached changes nothing but one warning, down to a SIGTERM ending with exit code 0.
/// </summary>
public sealed class KubernetesStartupProcessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task MismatchedPodSpec_ExitsWith1_NamingThePodFieldAndTheOption()
    {
        var port = FreePort();
        var pod = FakePod.Matching(port);
        pod.TerminationGracePeriodSeconds = 20;
        await using var api = await FakeKubernetesApiServer.StartAsync(pod);
        await using var app = SampleProcess.Launch(output, $"http://127.0.0.1:{port}", Settings(api));

        var exitCode = await app.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, exitCode);
        Assert.Contains("The application did not start: invalid options (exit code 1).", app.Output, StringComparison.Ordinal);
        Assert.Contains(
            $"Pod shop/{pod.Name}: spec.terminationGracePeriodSeconds (20) is shorter than the shutdown budget, 27 s (delay 00:00:05 + GracefulLifecycle:DrainTimeout 00:00:20 + GracefulLifecycle:ShutdownMargin 00:00:02), which fits GracefulLifecycle:TerminationGracePeriod (00:00:30)",
            app.Output,
            StringComparison.Ordinal);
        Assert.Equal(1, api.RequestCount);
    }

    [Fact]
    public async Task PodSpecThatAgrees_StartsServesAndStopsOnSigterm()
    {
        var port = FreePort();
        await using var api = await FakeKubernetesApiServer.StartAsync(FakePod.Matching(port));
        await using var app = await SampleProcess.StartAsync(output, $"http://127.0.0.1:{port}", [("Sample:PreloadDuration", "00:00:00.200"), .. Settings(api)]);
        using var client = SampleProcess.NewClient();

        await app.WaitUntilReadyAsync(client, TimeSpan.FromSeconds(30));
        await app.WaitForLogAsync("agrees with the options", TimeSpan.FromSeconds(10));
        app.Signal(SampleProcess.SIGTERM);

        Assert.Equal(0, await app.WaitForExitAsync(TimeSpan.FromSeconds(40)));
    }

    [Fact]
    public async Task ApiUnreachable_StartsAsWithoutThePackage_OneWarning_SigtermExits0()
    {
        var port = FreePort();
        var pod = FakePod.Matching(port);

        // Would fail the start if it were read.
        pod.TerminationGracePeriodSeconds = 1;
        await using var api = await FakeKubernetesApiServer.StartAsync(pod);
        api.Unavailable = true;
        await using var app = await SampleProcess.StartAsync(output, $"http://127.0.0.1:{port}", [("Sample:PreloadDuration", "00:00:00.200"), .. Settings(api)]);
        using var client = SampleProcess.NewClient();

        await app.WaitUntilReadyAsync(client, TimeSpan.FromSeconds(30));
        app.Signal(SampleProcess.SIGTERM);

        Assert.Equal(0, await app.WaitForExitAsync(TimeSpan.FromSeconds(40)));
        Assert.Single(app.Output.Split(Environment.NewLine), l => l.Contains("warn: GracefulLifecycle.Kubernetes", StringComparison.Ordinal));
        Assert.Contains($"Kubernetes: cannot reach the API at {api.RootUrl} to read pod shop/{pod.Name}", app.Output, StringComparison.Ordinal);
    }

    private static (string, string)[] Settings(FakeKubernetesApiServer api) =>
        [.. api.Configuration.Select(kv => (kv.Key, kv.Value!))];

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
