using GracefulLifecycle.Drill;

namespace GracefulLifecycle.DrillTests;

/// <summary>
/// The library's promise, checked end to end with real components: replicas rolled one at a time behind HAProxy
/// (or found through etcd) under wrk load lose no request, while the same rollout of a plain app does lose some,
/// which proves the drill can see failures.
/// </summary>
public sealed class RolloutDrillTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("tcp")]
    [InlineData("http")]
    public async Task Baseline_WithoutTheLibrary_LosesRequests(string mode)
    {
        var result = await RunAsync(new DrillSettings(DrillScenario.Baseline, Enum.Parse<BalancerMode>(mode, ignoreCase: true), Rollouts: 1));

        Assert.True(result.Failures > 0, $"the drill saw no failure without the library: {result}");
    }

    [Theory]
    [InlineData("sigterm", "tcp")]
    [InlineData("sigterm", "http")]
    [InlineData("prestop", "tcp")]
    [InlineData("prestop", "http")]
    public async Task WithTheLibrary_ThreeFullRollouts_LoseNoRequest(string scenario, string mode)
    {
        var result = await RunAsync(new DrillSettings(
            Enum.Parse<DrillScenario>(scenario, ignoreCase: true), Enum.Parse<BalancerMode>(mode, ignoreCase: true), Rollouts: 3));

        Drills.AssertNoLoss(result);
    }

    [Fact]
    public async Task WithTheLibrary_ClientSideDiscoveryThroughEtcd_ThreeFullRollouts_LoseNoRequest()
    {
        var result = await RunAsync(new DrillSettings(DrillScenario.Etcd, BalancerMode.None, Rollouts: 3));

        Drills.AssertNoLoss(result);
    }

    private Task<DrillResult> RunAsync(DrillSettings settings) =>
        Drills.RunAsync(output, settings with { Timeline = true }, DrillRunner.RunAsync);
}
