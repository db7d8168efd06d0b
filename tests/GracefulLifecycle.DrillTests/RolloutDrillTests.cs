using GracefulLifecycle.Drill;
using GracefulLifecycle.TestSupport;

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

        AssertNoLoss(result);
    }

    [Fact]
    public async Task WithTheLibrary_ClientSideDiscoveryThroughEtcd_ThreeFullRollouts_LoseNoRequest()
    {
        var result = await RunAsync(new DrillSettings(DrillScenario.Etcd, BalancerMode.None, Rollouts: 3));

        AssertNoLoss(result);
    }

    private static void AssertNoLoss(DrillResult result)
    {
        Assert.True(result.Requests > 1000, $"too little load to say anything: {result}");
        Assert.Equal(0, result.Failures);
        Assert.Equal(0, result.Killed);
    }

    private async Task<DrillResult> RunAsync(DrillSettings settings)
    {
        using var log = new OutputWriter(output);
        var result = await DrillRunner.RunAsync(settings with { Timeline = true }, log);
        Measurements.Append($"drill: {result}");

        return result;
    }

    private sealed class OutputWriter(ITestOutputHelper output) : StringWriter
    {
        public override void WriteLine(string? value) => output.WriteLine(value ?? string.Empty);
    }
}
