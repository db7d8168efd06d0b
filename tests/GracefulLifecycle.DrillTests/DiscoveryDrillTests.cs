using System.Globalization;
using GracefulLifecycle.Drill;
using GracefulLifecycle.TestSupport.Consul;

namespace GracefulLifecycle.DrillTests;

/// <summary>
/// The other end of the chain (issue 21) on real processes: replicas registered in the real etcd, or with the Consul
/// fake (blocking queries modelled on the agent's), called by a service whose <c>HttpClient</c> resolves them through
/// Microsoft.Extensions.ServiceDiscovery and the adapter's endpoint provider, or by the YARP gateway sample, under wrk
/// load through whole rollouts. The replicas declare watching consumers (<c>ConsumerRefreshInterval</c> 0, shutdown
/// delay 0.2 s), so each waits only the 1 s propagation margin: no call may fail, and every old replica must exit
/// within 2.5 s of SIGTERM, after its callers dropped it.
/// </summary>
/// <remarks>
/// CI runs one rollout of each (3 replicas, so 3 terminations); <c>DRILL_DISCOVERY_ROLLOUTS=3</c> runs the full drill
/// for the figures in docs/benchmarks.md.
/// </remarks>
public sealed class DiscoveryDrillTests(ITestOutputHelper output)
{
    private static int Rollouts =>
        int.Parse(Environment.GetEnvironmentVariable("DRILL_DISCOVERY_ROLLOUTS") ?? "1", CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("discovery-etcd")]
    [InlineData("gateway")]
    public async Task Etcd_WatchingCallers_LoseNoCall_AndEveryOldReplicaExitsWithin2_5s(string scenario)
    {
        var result = await RunAsync(DiscoveryScenarios.Create(scenario, Rollouts));

        AssertPromptAndLossless(result);
    }

    [Theory]
    [InlineData("discovery-consul")]
    [InlineData("gateway-consul")]
    public async Task ConsulFakeWithBlockingQueries_WatchingCallers_LoseNoCall_AndEveryOldReplicaExitsWithin2_5s(string scenario)
    {
        await using var consul = await FakeConsulAgent.StartAsync();

        var result = await RunAsync(DiscoveryScenarios.Create(scenario, Rollouts, consul.Address));

        AssertPromptAndLossless(result);
    }

    private static void AssertPromptAndLossless(DrillResult result)
    {
        Drills.AssertNoLoss(result);
        Assert.Equal(3 * result.Settings.Rollouts, result.Terminations.Count);
        Assert.All(result.Terminations, t =>
        {
            Assert.True(t.ExitedByItself && t.ExitCode == 0, t.ToString());
            Assert.True(t.SigTermToExit < DiscoveryScenarios.ExitBound, $"exited {t.SigTermToExit.TotalSeconds:F2} s after SIGTERM, over {DiscoveryScenarios.ExitBound.TotalSeconds} s: {t}");

            // The callers dropped it before it stopped serving: what the short delay relies on.
            Assert.True(t.RemovedAfter is { } removed && removed < t.SigTermToExit, $"not seen out of the callers' rotation before its exit: {t}");
        });
    }

    private Task<DrillResult> RunAsync(DrillSettings settings) =>
        Drills.RunAsync(output, settings with { Timeline = true }, DrillRunner.RunAsync);
}
