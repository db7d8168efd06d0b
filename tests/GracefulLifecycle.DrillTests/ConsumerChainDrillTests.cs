using System.Globalization;
using GracefulLifecycle.Drill;
using GracefulLifecycle.TestSupport.Consul;
using GracefulLifecycle.TestSupport.Eureka;

namespace GracefulLifecycle.DrillTests;

/// <summary>
/// The consumer chain end to end (issue 17): replicas registered in the Eureka fake (with its read-only response
/// cache) or the Consul fake, called by Spring Cloud-like consumers through a registry fetch and a load-balancer cache,
/// no retries. The delay derived from the whole chain loses no call; the old derivation, without the load-balancer
/// term, run in the same test, loses calls, which shows both that the term is needed and that the drill sees the loss.
/// </summary>
/// <remarks>
/// The drill does not depend on tests/, so the fakes are hosted here and passed to it by URL. CI runs one rollout;
/// <c>DRILL_CHAIN_ROLLOUTS=3</c> runs the full drill for the figures in docs/benchmarks.md.
/// </remarks>
public sealed class ConsumerChainDrillTests(ITestOutputHelper output)
{
    private static int Rollouts =>
        int.Parse(Environment.GetEnvironmentVariable("DRILL_CHAIN_ROLLOUTS") ?? "1", CultureInfo.InvariantCulture);

    [Fact]
    public async Task Eureka_DelayDerivedFromTheWholeChain_LosesNoCall_OldDerivationLosesCalls()
    {
        var chain = new ConsumerChain(new Uri("http://127.0.0.1/"));
        await using var eureka = await FakeEurekaServer.StartAsync(TimeProvider.System, chain.ServerCache);

        await RunPairAsync(DrillScenario.Eureka, chain with { RegistryUrl = new Uri(eureka.ServiceUrl) });
    }

    [Fact]
    public async Task Consul_DelayDerivedFromTheWholeChain_LosesNoCall_OldDerivationLosesCalls()
    {
        var chain = new ConsumerChain(new Uri("http://127.0.0.1/"));
        await using var consul = await FakeConsulAgent.StartAsync();

        await RunPairAsync(DrillScenario.Consul, chain with { RegistryUrl = consul.Address });
    }

    private async Task RunPairAsync(DrillScenario registry, ConsumerChain chain)
    {
        output.WriteLine(ConsumerChainScenarios.Describe(registry, chain));
        var runs = ConsumerChainScenarios.Pair(registry, chain, Rollouts).Select(r => r with { Timeline = true }).ToArray();
        var derived = await Drills.RunAsync(output, runs[0], DrillRunner.RunAsync);
        var old = await Drills.RunAsync(output, runs[1], DrillRunner.RunAsync);

        Drills.AssertNoLoss(derived);
        Assert.True(old.Failures > 0, $"the old derivation lost no call, so the drill shows nothing of the load-balancer term: {old}");
        Assert.Equal(0, old.Killed);
    }
}
