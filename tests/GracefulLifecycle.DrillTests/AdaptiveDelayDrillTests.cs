using System.Globalization;
using System.Text.RegularExpressions;
using GracefulLifecycle.Drill;

namespace GracefulLifecycle.DrillTests;

/// <summary>
/// The short version of the adaptive delay drill (issue 13; the full one is <c>--scenario adaptive --rollouts 3</c>):
/// one rollout of 3 replicas per case, real HAProxy, wrk and etcd. A slow balancer shows the fixed delay losing
/// requests where the adaptive one loses none (HAProxy checks readiness itself, so each delay waits for its check after
/// the traffic stopped); a fast balancer shows the adaptive delay ending on that evidence long before its maximum;
/// client-side discovery shows it waiting for the consumer.
/// </summary>
public sealed class AdaptiveDelayDrillTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, DrillSettings> Scenarios = AdaptiveDelayScenarios.All(rollouts: 1).ToDictionary(s => s.Name);

    [Fact]
    public async Task SlowBalancer_AFixed3sDelayLosesRequests_TheAdaptiveDelayLosesNone()
    {
        var fixedDelay = await RunAsync("inter4s-fall2/fixed-3s");
        var adaptive = await RunAsync("inter4s-fall2/adaptive-max-15s");

        Assert.True(fixedDelay.Failures > 0, $"the slow balancer did not make the fixed 3 s delay lose anything: {fixedDelay}");
        Drills.AssertNoLoss(adaptive);

        // It waited for the balancer, which took each replica out 4-8 s after SIGTERM.
        Assert.All(adaptive.Terminations, t => Assert.True(t.RemovedAfter is not null && t.SigTermToExit > t.RemovedAfter, t.ToString()));
    }

    [Fact]
    public async Task FastBalancer_TheAdaptiveDelayEndsOnEvidenceLongBeforeItsMaximum_LosingNothing()
    {
        var adaptive = await RunAsync("inter1s/adaptive-max-10s");

        Drills.AssertNoLoss(adaptive);

        // Every delay ended on evidence (Quiet), after the balancer had taken the replica out, well before the 10 s
        // maximum. The goal of 1 s from removal to exit is reported by the full drill (0.51-0.78 s in run 8), not held
        // here: it is a timing, the quiet period grows with the pauses the machine itself makes, and on a loaded
        // machine the exit after the drain took up to 3 s more (docs/benchmarks.md, 2h).
        Assert.All(adaptive.Terminations, t =>
        {
            Assert.NotNull(t.RemovedAfter);
            var delay = Regex.Match(t.ShutdownTimeline ?? string.Empty, @"delay (\w+) at \+(\d+) ms");
            Assert.True(delay.Success, $"no shutdown timeline: {t}");
            Assert.Equal("Quiet", delay.Groups[1].Value);
            var ended = TimeSpan.FromMilliseconds(int.Parse(delay.Groups[2].Value, CultureInfo.InvariantCulture));
            Assert.True(ended < TimeSpan.FromSeconds(5), $"the delay ended {ended.TotalSeconds:F2} s after SIGTERM: {t}");
        });
    }

    [Fact]
    public async Task ClientSideDiscovery_ConsumerSlowerThanDeclared_TheAdaptiveDelayWaitsForIt_LosingNothing()
    {
        // The replicas declare a 1 s consumer refresh (a 2 s floor); the consumer refreshes every 5 s.
        var adaptive = await RunAsync("etcd-refresh5s-declared1s/adaptive-max-15s");

        Drills.AssertNoLoss(adaptive);
        Assert.All(adaptive.Terminations, t => Assert.True(t.RemovedAfter is not null && t.SigTermToExit > t.RemovedAfter, t.ToString()));
    }

    private Task<DrillResult> RunAsync(string name) => Drills.RunAsync(output, Scenarios[name], DrillRunner.RunAsync);
}
