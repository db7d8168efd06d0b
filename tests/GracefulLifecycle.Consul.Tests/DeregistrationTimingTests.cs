using System.Diagnostics;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.TestSupport.Consul;
using Xunit.Abstractions;

namespace GracefulLifecycle.Consul.Tests;

/// <summary>
/// Measures how long Consul consumers may still be sent here after leaving starts, as far as this side decides it:
/// the wall-clock time from the host's stop to the deregistration arriving at the agent.
/// </summary>
public sealed class DeregistrationTimingTests(ITestOutputHelper output) : IAsyncLifetime
{
    private FakeConsulAgent _agent = null!;

    public async Task InitializeAsync() => _agent = await FakeConsulAgent.StartAsync(ConsulLifecycleTests.AclToken);

    public async Task DisposeAsync() => await _agent.DisposeAsync();

    [Fact]
    public async Task Leaving_to_deregistration_received_is_measured()
    {
        await using var host = await ConsulLifecycleTests.StartHostAsync(_agent);
        await Eventually.DoneAsync(host.Lifecycle.Ready, "the instance to become ready");

        var leavingStarted = Stopwatch.GetTimestamp();
        var stop = host.StopAsync();
        var deregister = await _agent.WaitForAnsweredCallAsync(c => c.IsDeregister, "the deregistration");
        await stop;

        var elapsed = Stopwatch.GetElapsedTime(leavingStarted, deregister.ArrivedAt);
        Measurements.Record(output.WriteLine, "Consul: leaving -> deregister received", elapsed.TotalMilliseconds);

        Assert.Equal(200, deregister.StatusCode);
        Assert.InRange(elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
    }
}
