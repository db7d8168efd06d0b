using System.Diagnostics;
using System.Net.Sockets;
using GracefulLifecycle.Drill;
using static System.FormattableString;

namespace GracefulLifecycle.Bench;

/// <summary>
/// SIGTERM to process exit, timed from outside the process, against what the configuration says it should take:
/// the shutdown delay, then the drain until the last request ends, bounded by the drain timeout.
/// </summary>
internal static class ShutdownBenchmark
{
    private const int SlowRequests = 8;
    private const string StartedLine = "Slow request started";

    public static readonly TimeSpan Delay = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan Drain = TimeSpan.FromSeconds(3);
    public static readonly TimeSpan GracePeriod = TimeSpan.FromSeconds(15);

    private static readonly ShutdownCase[] Cases =
    [
        new("Baseline app (no library), idle", Apps.Baseline, WithLibrary: false, Requests: 0, RequestMs: 0),
        new("Sample, idle", Apps.Sample, WithLibrary: true, Requests: 0, RequestMs: 0),
        new($"Sample, {SlowRequests} x /slow?ms=1000 (end within the delay)", Apps.Sample, WithLibrary: true, SlowRequests, 1000),
        new($"Sample, {SlowRequests} x /slow?ms=4000 (end during the drain)", Apps.Sample, WithLibrary: true, SlowRequests, 4000),
        new($"Sample, {SlowRequests} x /slow?ms=10000 (outlast the drain timeout)", Apps.Sample, WithLibrary: true, SlowRequests, 10000),
    ];

    public static async Task RunAsync(BenchOptions options, CpuMonitor cpu, TextWriter results, TextWriter progress)
    {
        var settings = Apps.Settings(Delay, Drain, GracePeriod);

        // Log the sample's "Slow request started" lines: they tell when the requests are in flight.
        settings["Logging__LogLevel__Program"] = "Information";

        var outcomes = new List<(ShutdownCase Case, List<ShutdownRun> Runs)>();
        foreach (var shutdownCase in Cases)
        {
            var runs = new List<ShutdownRun>();
            for (var run = 1; run <= options.Runs; run++)
            {
                var outcome = await RunOnceAsync(shutdownCase, settings, cpu, progress);
                for (var attempt = 2; attempt <= 3 && outcome.Cpu.OtherPercent >= cpu.QuietBelowPercent; attempt++)
                {
                    // Other work took the machine while this instance shut down: time it again.
                    progress.WriteLine(Invariant($"[shutdown] {shutdownCase.Name}: run {run}: others took {outcome.Cpu.OtherPercent:F0}%; measuring again"));
                    outcome = await RunOnceAsync(shutdownCase, settings, cpu, progress);
                }

                runs.Add(outcome);
                progress.WriteLine(Invariant(
                    $"[shutdown] {shutdownCase.Name}: run {run}: {outcome.Measured.TotalMilliseconds:F0} ms (expected {outcome.Expected.TotalMilliseconds:F0} ms), exit code {outcome.ExitCode}, {outcome.Answered}/{shutdownCase.Requests} answered, others {outcome.Cpu.OtherPercent:F1}%"));
            }

            outcomes.Add((shutdownCase, runs));
        }

        results.WriteLine(Invariant(
            $"### b. Shutdown timing (ShutdownDelay {Delay.TotalSeconds:F0} s, DrainTimeout {Drain.TotalSeconds:F0} s, {options.Runs} runs each)"));
        results.WriteLine();
        results.WriteLine("| Case | Expected (ms) | Measured median (ms) | Overshoot min (ms) | Overshoot median (ms) | Overshoot max (ms) | Requests answered 200 | Exit codes | Other CPU % (max) |");
        results.WriteLine("|---|---:|---:|---:|---:|---:|---:|---|---:|");
        foreach (var (shutdownCase, runs) in outcomes)
        {
            var overshoot = runs.Select(r => (r.Measured - r.Expected).TotalMilliseconds).ToList();
            results.WriteLine(Invariant(
                $"| {shutdownCase.Name} | {Stats.Median(runs.Select(r => r.Expected.TotalMilliseconds)):F0} | {Stats.Median(runs.Select(r => r.Measured.TotalMilliseconds)):F0} | {overshoot.Min():F0} | {Stats.Median(overshoot):F0} | {overshoot.Max():F0} | {runs.Sum(r => r.Answered)}/{runs.Count * shutdownCase.Requests} | {string.Join(" ", runs.Select(r => r.ExitCode).Distinct())} | {runs.Max(r => r.Cpu.OtherPercent):F1} |"));
        }

        results.WriteLine();
        results.WriteLine(
            "Expected: the baseline stops at once (0). The sample serves the delay, then drains until its last request " +
            "ends (requests end at their duration minus the time they had already run at SIGTERM), at most for the drain timeout.");
        results.WriteLine();
    }

    private static async Task<ShutdownRun> RunOnceAsync(
        ShutdownCase shutdownCase, IReadOnlyDictionary<string, string> settings, CpuMonitor cpu, TextWriter progress)
    {
        await using var app = await Apps.StartReadyAsync(shutdownCase.App, settings);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };

        // An instance that has served a little, as one taken out of rotation has: its code paths are compiled.
        for (var i = 0; i < 20; i++)
        {
            using var response = await client.GetAsync(app.Address);
            response.EnsureSuccessStatusCode();
        }

        await cpu.WaitQuietAsync(progress);
        var clock = Stopwatch.StartNew();
        var requests = Enumerable.Range(0, shutdownCase.Requests)
            .Select(_ => AnsweredAsync(client, new Uri(app.Address, Invariant($"slow?ms={shutdownCase.RequestMs}"))))
            .ToList();
        if (shutdownCase.Requests > 0)
        {
            await WaitForLinesAsync(app, shutdownCase.Requests, TimeSpan.FromSeconds(5));
        }

        // Read /proc first, so that how long the requests had run is taken right at the signal.
        var before = CpuMonitor.Take();
        var requestsRan = clock.Elapsed;
        var sent = Stopwatch.StartNew();
        app.Signal(ChildProcess.SIGTERM);
        var exited = await app.WaitForExitAsync(GracePeriod + TimeSpan.FromSeconds(15));
        var measured = sent.Elapsed;
        var usage = CpuMonitor.Usage.Between(before, CpuMonitor.Take());
        if (!exited)
        {
            throw new InvalidOperationException($"{shutdownCase.Name}: the app did not exit. Output:{Environment.NewLine}{app.Output}");
        }

        var answered = (await Task.WhenAll(requests)).Count(ok => ok);
        return new ShutdownRun(Expected(shutdownCase, requestsRan), measured, app.ExitCode, answered, usage);
    }

    private static TimeSpan Expected(ShutdownCase shutdownCase, TimeSpan requestsRan)
    {
        if (!shutdownCase.WithLibrary)
        {
            return TimeSpan.Zero;
        }

        var requestsEnd = shutdownCase.Requests == 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(shutdownCase.RequestMs) - requestsRan;
        var drainEnd = requestsEnd < Delay ? Delay : requestsEnd;
        return drainEnd < Delay + Drain ? drainEnd : Delay + Drain;
    }

    private static async Task<bool> AnsweredAsync(HttpClient client, Uri uri)
    {
        try
        {
            using var response = await client.GetAsync(uri);
            return response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or SocketException)
        {
            return false;
        }
    }

    private static async Task WaitForLinesAsync(Replica app, int count, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (CountLines(app.Output) < count)
        {
            if (deadline.Elapsed > timeout)
            {
                throw new InvalidOperationException($"The slow requests did not all start. Output:{Environment.NewLine}{app.Output}");
            }

            await Task.Delay(2);
        }
    }

    private static int CountLines(string output)
    {
        var count = 0;
        for (var at = output.IndexOf(StartedLine, StringComparison.Ordinal); at >= 0; at = output.IndexOf(StartedLine, at + 1, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private sealed record ShutdownCase(string Name, string App, bool WithLibrary, int Requests, int RequestMs);

    private sealed record ShutdownRun(TimeSpan Expected, TimeSpan Measured, int ExitCode, int Answered, CpuMonitor.Usage Cpu);
}
