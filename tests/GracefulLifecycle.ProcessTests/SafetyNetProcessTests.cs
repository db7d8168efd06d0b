using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using GracefulLifecycle.TestSupport;

namespace GracefulLifecycle.ProcessTests;

/// <summary>Half-done sequences on a real process end in a bounded time with a known exit code.</summary>
public sealed class SafetyNetProcessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task PreStopWithNoSigterm_TheInstanceDrainsAndExits0_WithinTheGracePeriod()
    {
        // Grace 6 s, drain 2 s, margin 1 s: with no SIGTERM by 3 s after the call, the instance stops itself.
        var grace = TimeSpan.FromSeconds(6);
        await using var app = await StartWithAShortGracePeriodAsync();
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        await app.WaitUntilReadyAsync(client, TimeSpan.FromSeconds(30));

        var clock = Stopwatch.StartNew();
        using (var preStop = await client.PostAsync(new Uri(app.BaseAddress, "/prestop"), null))
        {
            Assert.Equal(HttpStatusCode.OK, preStop.StatusCode);
        }

        var exitCode = await app.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Measurements.Record(output.WriteLine, "/prestop with no SIGTERM -> exit (grace 6 s)", clock.Elapsed.TotalMilliseconds);
        Assert.Equal(0, exitCode);
        Assert.Contains("No stop followed the preStop call", app.Output, StringComparison.Ordinal);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(3), $"stopped {clock.Elapsed} after the call, before SIGTERM was due");
        Assert.True(clock.Elapsed < grace, $"exit took {clock.Elapsed}, beyond the {grace} grace period");
    }

    [Fact]
    public async Task PreStopWithNoSigterm_Rejoin_TheInstanceIsReadyAgain_AndASigtermLaterStillEndsIt()
    {
        // Grace 6 s, drain 2 s, margin 1 s: with no SIGTERM by 3 s after the call, the instance returns to service.
        await using var app = await StartWithAShortGracePeriodAsync(("GracefulLifecycle:PreStop:WhenNoStopFollows", "Rejoin"));
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        await app.WaitUntilReadyAsync(client, TimeSpan.FromSeconds(30));

        var clock = Stopwatch.StartNew();
        using (var preStop = await client.PostAsync(new Uri(app.BaseAddress, "/prestop"), null))
        {
            Assert.Equal(HttpStatusCode.OK, preStop.StatusCode);
        }

        using (var leaving = await client.GetAsync(new Uri(app.BaseAddress, "/ifready")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, leaving.StatusCode);
        }

        await app.WaitUntilReadyAsync(client, TimeSpan.FromSeconds(30));
        var rejoined = clock.Elapsed;
        Measurements.Record(output.WriteLine, "/prestop with no SIGTERM -> ready again (grace 6 s, Rejoin)", rejoined.TotalMilliseconds);
        Assert.False(app.HasExited, "the instance exited instead of rejoining");
        await app.WaitForLogAsync("Rejoined: ready again", TimeSpan.FromSeconds(10));
        Assert.True(rejoined >= TimeSpan.FromSeconds(3), $"ready again {rejoined} after the call, before SIGTERM was due");

        // It leaves again as any instance does: SIGTERM, the delay, the drain, exit 0.
        app.Signal(SampleProcess.SIGTERM);
        Assert.Equal(0, await app.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task APreloadTaskThatBlocksItsThread_TimesOut_AndTheProcessExits1()
    {
        await using var app = await SampleProcess.StartAsync(
            output,
            ("Sample:PreloadDuration", "00:00:00"),
            ("Sample:PreloadBlocks", "true"),
            ("GracefulLifecycle:PreloadTimeout", "00:00:01"));
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        var readiness = new List<HttpStatusCode>();
        while (!app.HasExited && clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            try
            {
                using var response = await client.GetAsync(new Uri(app.BaseAddress, "/ifready"));
                readiness.Add(response.StatusCode);
            }
            catch (Exception e) when (e is HttpRequestException or SocketException or TaskCanceledException)
            {
                // Stopped listening on its way out.
            }

            await Task.Delay(50);
        }

        var exitCode = await app.WaitForExitAsync(TimeSpan.FromSeconds(10));

        Measurements.Record(output.WriteLine, "blocking preload (timeout 1 s) -> exit", clock.Elapsed.TotalMilliseconds);
        Assert.Equal(1, exitCode);
        Assert.All(readiness, code => Assert.Equal(HttpStatusCode.ServiceUnavailable, code));
        Assert.Contains("timed out after 00:00:01", app.Output, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"exit took {clock.Elapsed}");
    }

    /// <summary>Delay 1 s, drain 2 s, margin 1 s, grace 6 s: with no SIGTERM by 3 s after a preStop call, the follow-up acts.</summary>
    private Task<SampleProcess> StartWithAShortGracePeriodAsync(params (string Key, string Value)[] settings) =>
        SampleProcess.StartAsync(
            output,
            [
                ("Sample:PreloadDuration", "00:00:00"),
                ("GracefulLifecycle:ShutdownDelay", "00:00:01"),
                ("GracefulLifecycle:DrainTimeout", "00:00:02"),
                ("GracefulLifecycle:ShutdownMargin", "00:00:01"),
                ("GracefulLifecycle:TerminationGracePeriod", "00:00:06"),
                .. settings,
            ]);
}
