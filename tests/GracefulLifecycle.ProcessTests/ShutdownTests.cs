using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using GracefulLifecycle.TestSupport;

namespace GracefulLifecycle.ProcessTests;

/// <summary>
/// The shutdown sequence on a real process: real Kestrel on a loopback port the OS picks, real SIGTERM and SIGINT
/// sent with kill(2), and only observable facts (HTTP answers, exit code, log lines) asserted.
/// </summary>
public sealed class ShutdownTests(ITestOutputHelper output)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Sigterm_FailsReadinessWithin100ms_WhileTheAppServes200ForTheWholeDelay()
    {
        var delay = TimeSpan.FromSeconds(3);
        await using var app = await StartAsync(("GracefulLifecycle:ShutdownDelay", "00:00:03"), ("GracefulLifecycle:DrainTimeout", "00:00:02"));
        using var probes = NewClient();
        await app.WaitUntilReadyAsync(probes, StartTimeout);

        var clock = Stopwatch.StartNew();
        await using var load = SteadyTraffic.Start(app.BaseAddress, clock, TimeSpan.FromSeconds(20));
        await WaitAsync(() => load.Answers.Count >= 5, "traffic flows before the signal");

        var signalled = clock.Elapsed;
        app.Signal(SampleProcess.SIGTERM);

        // Probes back to back, each with the time it was sent: a probe sent 100 ms or more after the signal must get
        // 503. Judging probes by when they were sent, not when their answer arrived, keeps a pause of this test
        // process (a noisy machine) from counting as the instance's delay.
        var probeAnswers = new List<(TimeSpan SentAfterSignal, HttpStatusCode Code)>();
        while (probeAnswers.Count == 0 || probeAnswers[^1].Code != HttpStatusCode.ServiceUnavailable)
        {
            var sent = clock.Elapsed - signalled;
            using var response = await probes.GetAsync(new Uri(app.BaseAddress, "/ifready"));
            probeAnswers.Add((sent, response.StatusCode));
            Assert.True(clock.Elapsed - signalled < TimeSpan.FromSeconds(2), "readiness still 200 two seconds after SIGTERM");
        }

        var flipped = clock.Elapsed - signalled;
        await load.UntilRefusedAsync();
        var exitCode = await app.WaitForExitAsync(ExitTimeout);

        var served = load.Answers.Where(a => a.StartedAt > signalled).ToList();
        var last200 = Assert.IsType<SteadyTraffic.Attempt>(served.LastOrDefault(a => a.Code == HttpStatusCode.OK));
        Measurements.Record(output.WriteLine, "(a) SIGTERM -> /ifready 503", flipped.TotalMilliseconds);
        Measurements.Record(output.WriteLine, "(a) SIGTERM -> last 200 on /", (last200.EndedAt - signalled).TotalMilliseconds);

        Assert.All(
            probeAnswers.Where(p => p.SentAfterSignal >= TimeSpan.FromMilliseconds(100)),
            p => Assert.True(p.Code == HttpStatusCode.ServiceUnavailable, $"a probe sent {p.SentAfterSignal.TotalMilliseconds} ms after SIGTERM got {(int)p.Code}"));
        var (_, stopped) = load.AssertServedThrough(signalled, delay, "shutdown delay");
        Measurements.Record(output.WriteLine, "(a) SIGTERM -> first request without an answer", stopped.TotalMilliseconds);
        Assert.True(served.Count > 10, "requests kept being served after SIGTERM");
        Assert.True(last200.EndedAt - signalled >= delay - TimeSpan.FromMilliseconds(500), $"last 200 only {(last200.EndedAt - signalled).TotalMilliseconds} ms after SIGTERM");
        Assert.Equal(0, exitCode);
    }

    [Fact]
    public async Task SlowRequest_StartedBeforeSigterm_CompletesWith200_AndTheProcessDoesNotWaitForTheTimeout()
    {
        await using var app = await StartAsync(("GracefulLifecycle:ShutdownDelay", "00:00:01"), ("GracefulLifecycle:DrainTimeout", "00:00:15"));
        using var client = NewClient();
        await app.WaitUntilReadyAsync(client, StartTimeout);

        var elapsed = await InFlightRequest.CompletesAcrossAsync(app, client, SampleProcess.SIGTERM, ExitTimeout);

        Measurements.Record(output.WriteLine, "(b) SIGTERM -> exit with a 3 s request in flight (delay 1 s, drain timeout 15 s)", elapsed.TotalMilliseconds);
        Assert.True(elapsed < TimeSpan.FromSeconds(8), $"exit took {elapsed}: the drain waited for its timeout");
        Assert.Contains("requests aborted: 0", app.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RequestLongerThanTheDrainTimeout_IsAborted_AndTheProcessExits0ByDelayPlusDrain()
    {
        var budget = TimeSpan.FromSeconds(1) + TimeSpan.FromSeconds(2);
        await using var app = await StartAsync(("GracefulLifecycle:ShutdownDelay", "00:00:01"), ("GracefulLifecycle:DrainTimeout", "00:00:02"));
        using var client = NewClient();
        await app.WaitUntilReadyAsync(client, StartTimeout);

        var endless = client.GetAsync(new Uri(app.BaseAddress, "/slow?ms=60000"));
        await app.WaitForLogAsync("Slow request started (60000 ms)", TimeSpan.FromSeconds(10));
        var clock = Stopwatch.StartNew();
        app.Signal(SampleProcess.SIGTERM);

        var exitCode = await app.WaitForExitAsync(ExitTimeout);
        var elapsed = clock.Elapsed;
        await Assert.ThrowsAnyAsync<Exception>(() => endless.WaitAsync(TimeSpan.FromSeconds(10)));

        Measurements.Record(output.WriteLine, "(c) SIGTERM -> exit with a request outlasting the drain (delay 1 s + drain 2 s)", elapsed.TotalMilliseconds);
        Measurements.Record(output.WriteLine, "(c) overshoot past delay + drain timeout", (elapsed - budget).TotalMilliseconds);
        Assert.Equal(0, exitCode);
        Assert.True(elapsed >= budget, $"exited after {elapsed}, before delay + drain timeout");
        Assert.True(elapsed < budget + TimeSpan.FromSeconds(1.5), $"exited after {elapsed}, more than 1.5 s past delay + drain timeout");
        Assert.Contains("aborting the requests still in flight: 1", app.Output, StringComparison.Ordinal);
        Assert.Contains("requests aborted: 1", app.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Slow request completed", app.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DuringLeaving_KeepAliveResponsesCarryConnectionClose()
    {
        await using var app = await StartAsync(("GracefulLifecycle:ShutdownDelay", "00:00:10"), ("GracefulLifecycle:DrainTimeout", "00:00:05"));
        using var probes = NewClient();
        using var keepAlive = NewClient();
        await app.WaitUntilReadyAsync(probes, StartTimeout);

        using (var before = await keepAlive.GetAsync(new Uri(app.BaseAddress, "/")))
        {
            Assert.NotEqual(true, before.Headers.ConnectionClose);
        }

        app.Signal(SampleProcess.SIGTERM);
        await WaitForReadinessAsync(probes, app, HttpStatusCode.ServiceUnavailable);

        using (var during = await keepAlive.GetAsync(new Uri(app.BaseAddress, "/")))
        {
            Assert.Equal(HttpStatusCode.OK, during.StatusCode);
            Assert.True(during.Headers.ConnectionClose, "a response during Leaving must carry Connection: close");
        }

        app.Signal(SampleProcess.SIGTERM);
        Assert.Equal(0, await app.WaitForExitAsync(ExitTimeout));
    }

    [Fact]
    public async Task IdleInstance_ExitsWithinTheDelayPlusASmallMargin()
    {
        var delay = TimeSpan.FromSeconds(2);
        await using var app = await StartAsync(("GracefulLifecycle:ShutdownDelay", "00:00:02"), ("GracefulLifecycle:DrainTimeout", "00:00:20"));
        using var client = NewClient();
        await app.WaitUntilReadyAsync(client, StartTimeout);

        var clock = Stopwatch.StartNew();
        app.Signal(SampleProcess.SIGTERM);
        var exitCode = await app.WaitForExitAsync(ExitTimeout);
        var elapsed = clock.Elapsed;

        Measurements.Record(output.WriteLine, "(e) idle SIGTERM -> exit (delay 2 s, drain timeout 20 s)", elapsed.TotalMilliseconds);
        Measurements.Record(output.WriteLine, "(e) margin past the delay", (elapsed - delay).TotalMilliseconds);
        Assert.Equal(0, exitCode);
        Assert.True(elapsed >= delay, $"exited after {elapsed}, before the delay");
        Assert.True(elapsed < delay + TimeSpan.FromSeconds(1.5), $"exited after {elapsed}: an idle drain must not wait");
    }

    [Fact]
    public async Task SigtermDuringPreload_CancelsItAndExitsCleanly_WithoutEverBeingReady()
    {
        await using var app = await StartAsync(("Sample:PreloadDuration", "00:01:00"));
        using var client = NewClient();
        await app.WaitForLogAsync("Warming up the cache", TimeSpan.FromSeconds(10));
        using (var live = await client.GetAsync(new Uri(app.BaseAddress, "/health")))
        using (var ready = await client.GetAsync(new Uri(app.BaseAddress, "/ifready")))
        {
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        }

        var clock = Stopwatch.StartNew();
        app.Signal(SampleProcess.SIGTERM);
        var exitCode = await app.WaitForExitAsync(ExitTimeout);

        Measurements.Record(output.WriteLine, "(f) SIGTERM during preload -> exit", clock.Elapsed.TotalMilliseconds);
        Assert.Equal(0, exitCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"exit took {clock.Elapsed}: never ready, so no delay is owed");
        Assert.Contains("Preload canceled because shutdown started", app.Output, StringComparison.Ordinal);
        Assert.Contains("no request arrived after it; no delay (never ready: nobody was routed here)", app.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Lifecycle phase Ready", app.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailingPreload_ExitsNonZero_AndNeverReportsReady()
    {
        await using var app = await StartAsync(("Sample:PreloadDuration", "00:00:01"), ("Sample:PreloadFails", "true"));
        using var client = NewClient();
        var readinessAnswers = new List<HttpStatusCode>();
        var deadline = Stopwatch.StartNew();
        while (!app.HasExited)
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), "the process did not exit within 30 s");
            try
            {
                using var response = await client.GetAsync(new Uri(app.BaseAddress, "/ifready"));
                readinessAnswers.Add(response.StatusCode);
            }
            catch (Exception e) when (e is HttpRequestException or SocketException)
            {
                // Stopped listening on its way out.
            }

            await Task.Delay(10);
        }

        var exitCode = await app.WaitForExitAsync(ExitTimeout);
        Assert.NotEqual(0, exitCode);
        Assert.NotEmpty(readinessAnswers);
        Assert.All(readinessAnswers, code => Assert.Equal(HttpStatusCode.ServiceUnavailable, code));
        Assert.Contains("Preload task SimulatedCacheWarmup failed", app.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Lifecycle phase Ready", app.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SecondSignal_DuringLeaving_SkipsTheRestOfTheDelay()
    {
        await using var app = await StartAsync(("GracefulLifecycle:ShutdownDelay", "00:00:20"), ("GracefulLifecycle:DrainTimeout", "00:00:05"));
        using var client = NewClient();
        await app.WaitUntilReadyAsync(client, StartTimeout);

        app.Signal(SampleProcess.SIGTERM);
        await WaitForReadinessAsync(client, app, HttpStatusCode.ServiceUnavailable);
        var clock = Stopwatch.StartNew();
        app.Signal(SampleProcess.SIGINT);
        var exitCode = await app.WaitForExitAsync(ExitTimeout);

        Measurements.Record(output.WriteLine, "(g) second signal -> exit (delay 20 s)", clock.Elapsed.TotalMilliseconds);
        Assert.Equal(0, exitCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"exit took {clock.Elapsed} after the second signal");
        Assert.Contains("cut short", app.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PreStopThenSigterm_AnswersAfterTheDelay_ThenDrainsWithoutASecondDelay()
    {
        var delay = TimeSpan.FromSeconds(2);
        await using var app = await StartAsync(("GracefulLifecycle:ShutdownDelay", "00:00:02"), ("GracefulLifecycle:DrainTimeout", "00:00:05"));
        using var client = NewClient();
        await app.WaitUntilReadyAsync(client, StartTimeout);

        var clock = Stopwatch.StartNew();
        using (var preStop = await client.PostAsync(new Uri(app.BaseAddress, "/prestop"), null))
        {
            Assert.Equal(HttpStatusCode.OK, preStop.StatusCode);
        }

        var preStopTook = clock.Elapsed;
        clock.Restart();
        app.Signal(SampleProcess.SIGTERM);
        var exitCode = await app.WaitForExitAsync(ExitTimeout);

        Measurements.Record(output.WriteLine, "(h) /prestop answer (delay 2 s)", preStopTook.TotalMilliseconds);
        Measurements.Record(output.WriteLine, "(h) SIGTERM after /prestop -> exit", clock.Elapsed.TotalMilliseconds);
        Assert.True(preStopTook >= delay, $"/prestop answered after {preStopTook}, before the delay");
        Assert.Equal(0, exitCode);
        Assert.True(clock.Elapsed < delay, $"exit took {clock.Elapsed} after SIGTERM: the delay was served twice");
    }

    private static HttpClient NewClient() => SampleProcess.NewClient();

    private static async Task WaitForReadinessAsync(HttpClient client, SampleProcess app, HttpStatusCode expected)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            using var response = await client.GetAsync(new Uri(app.BaseAddress, "/ifready"));
            if (response.StatusCode == expected)
            {
                return;
            }

            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), $"readiness never answered {expected}");
            await Task.Delay(10);
        }
    }

    private static async Task WaitAsync(Func<bool> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), $"timed out waiting for: {what}");
            await Task.Delay(10);
        }
    }

    private Task<SampleProcess> StartAsync(params (string Key, string Value)[] settings) =>
        SampleProcess.StartQuickAsync(output, settings);
}
