using GracefulLifecycle.Drill;
using GracefulLifecycle.TestSupport.Kubernetes;

namespace GracefulLifecycle.DrillTests;

/// <summary>
/// A container restart without deletion, rolled behind HAProxy standing for the kubelet and the Service (checks with
/// the kubelet's User-Agent every 1 s, out at the third failure): the replicas lose requests with a 1 s delay alone,
/// and none with GracefulLifecycle.Kubernetes reading their pod (not being deleted) from a fake API server. Same run.
/// </summary>
public sealed class KubernetesDrillTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ContainerRestart_LosesRequestsWithoutThePackage_AndNoneWithIt_SameRun()
    {
        // Readiness every 1 s, threshold 3, on /ifready; not being deleted: the restart case.
        await using var api = await FakeKubernetesApiServer.StartAsync(FakePod.Matching(port: 8080));
        var pod = KubernetesScenarios.PodSettings(
            api.RootUrl.ToString(), api.Pod.Namespace, api.Pod.Name, api.TokenPath);
        // Two replicas, one rollout: both runs within about a minute and a half.
        var runs = KubernetesScenarios.Pair(pod, rollouts: 1).Select(r => r with { Replicas = 2 }).ToArray();

        var without = await Drills.RunAsync(output, runs[0] with { Timeline = true }, DrillRunner.RunAsync);
        var with = await Drills.RunAsync(output, runs[1] with { Timeline = true }, DrillRunner.RunAsync);

        Assert.True(without.Failures > 0, $"the drill saw no failure without the package: {without}");
        Drills.AssertNoLoss(with);

        // Each replica with the package was out of HAProxy (the kubelet's third failed probe) before it exited.
        Assert.All(with.Terminations, t => Assert.True(
            t.RemovedAfter is { } removed && removed < t.SigTermToExit,
            $"replica :{t.Port} exited {t.SigTermToExit.TotalSeconds:F2} s after SIGTERM, removed at {t.RemovedAfter?.TotalSeconds:F2} s"));
        Assert.True(api.RequestCount >= 3 * 2, $"{api.RequestCount} pod reads: each replica reads its pod at startup and at SIGTERM");
    }
}
