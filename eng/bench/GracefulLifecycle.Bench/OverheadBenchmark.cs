using GracefulLifecycle.Drill;
using static System.FormattableString;

namespace GracefulLifecycle.Bench;

/// <summary>
/// Requests per second of the sample (with the library) against the baseline app (without it), interleaved in one run.
/// Both apps run pinned to the same CPU and wrk to the other; they take turns, the order alternating from round to
/// round, so drift in the machine's speed falls on both alike. The rounds are spread over a few pairs of processes,
/// because JIT and PGO outcomes differ from one process to the next by a few percent and one pair would bias every
/// round the same way. Each process is warmed up first: with tiered PGO, a process pinned to one CPU takes 15-20 s
/// under load to reach its steady throughput.
/// </summary>
internal static class OverheadBenchmark
{
    private const int Threads = 1;
    private const int Connections = 32;

    /// <summary>How many times a round is measured at most when other work disturbed it.</summary>
    private const int MaxAttempts = 3;

    /// <summary>
    /// <c>/</c> is the endpoint asked for; its handlers differ a little (the sample also prints the machine name and
    /// the phase). <c>/slow?ms=0</c> runs the same handler code in both apps, so its ratio is the library's alone.
    /// </summary>
    private static readonly string[] Paths = ["/", "/slow?ms=0"];

    public static async Task RunAsync(BenchOptions options, CpuMonitor cpu, TextWriter results, TextWriter progress)
    {
        var rounds = Paths.ToDictionary(p => p, _ => new List<Round>());
        var pairs = Math.Clamp(options.Pairs, 1, options.Rounds);
        var round = 0;
        for (var pair = 1; pair <= pairs; pair++)
        {
            var (sample, baseline) = await StartPairAsync(options);
            await using (sample)
            await using (baseline)
            {
                foreach (var path in Paths)
                {
                    progress.WriteLine(Invariant($"[overhead] pair {pair}: warming up GET {path}"));
                    await WrkLoad.RunAsync(new Uri(sample.Address, path), Threads, Connections, options.WarmupDuration, options.LoadCpu);
                    await WrkLoad.RunAsync(new Uri(baseline.Address, path), Threads, Connections, options.WarmupDuration, options.LoadCpu);
                }

                // Rounds 1-3 on the first pair, 4-6 on the second (with the defaults).
                var last = options.Rounds * pair / pairs;
                while (round < last)
                {
                    round++;
                    foreach (var path in Paths)
                    {
                        var measured = await RoundAsync(sample, baseline, path, round, options, cpu, progress);
                        rounds[path].Add(measured with { Pair = pair });
                    }
                }
            }
        }

        results.WriteLine(Invariant(
            $"### a. Per-request overhead (wrk -t{Threads} -c{Connections}, {options.RoundDuration.TotalSeconds:F0} s rounds, {pairs} pairs of processes each warmed up {options.WarmupDuration.TotalSeconds:F0} s per path, servers on CPU {options.ServerCpu}, wrk on CPU {options.LoadCpu})"));
        foreach (var path in Paths)
        {
            Write(results, path, rounds[path]);
        }

        results.WriteLine();
    }

    private static void Write(TextWriter results, string path, List<Round> rounds)
    {
        var ratios = rounds.Select(r => r.Ratio).ToList();
        results.WriteLine();
        results.WriteLine(Invariant($"GET {path}"));
        results.WriteLine();
        results.WriteLine("| Round | Pair | First | Sample req/s | Baseline req/s | Ratio | Sample p99 (ms) | Baseline p99 (ms) | Other CPU % (sample/baseline) | Steal % |");
        results.WriteLine("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rounds)
        {
            results.WriteLine(Invariant(
                $"| {r.Number} | {r.Pair} | {(r.SampleFirst ? "sample" : "baseline")} | {r.Sample.Wrk.RequestsPerSecond:F0} | {r.Baseline.Wrk.RequestsPerSecond:F0} | {r.Ratio:F3} | {r.Sample.Wrk.LatencyP99Ms:F2} | {r.Baseline.Wrk.LatencyP99Ms:F2} | {r.Sample.Cpu.OtherPercent:F1} / {r.Baseline.Cpu.OtherPercent:F1} | {Math.Max(r.Sample.Cpu.StealPercent, r.Baseline.Cpu.StealPercent):F1} |"));
        }

        var errors = rounds.Sum(r => r.Sample.Wrk.Non2xx + r.Sample.Wrk.SocketErrors + r.Baseline.Wrk.Non2xx + r.Baseline.Wrk.SocketErrors);
        results.WriteLine();
        results.WriteLine(Invariant(
            $"Median ratio sample/baseline: **{Stats.Median(ratios):F3}** (min {ratios.Min():F3}, max {ratios.Max():F3}); median req/s sample {Stats.Median(rounds.Select(r => r.Sample.Wrk.RequestsPerSecond)):F0}, baseline {Stats.Median(rounds.Select(r => r.Baseline.Wrk.RequestsPerSecond)):F0}; non-2xx and socket errors: {errors}."));
    }

    private static async Task<(Replica Sample, Replica Baseline)> StartPairAsync(BenchOptions options)
    {
        var settings = Apps.Settings(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15));
        var starting = new[] { Apps.StartReadyAsync(Apps.Sample, settings, options.ServerCpu), Apps.StartReadyAsync(Apps.Baseline, settings, options.ServerCpu) };
        try
        {
            await Task.WhenAll(starting);
            return (starting[0].Result, starting[1].Result);
        }
        catch
        {
            foreach (var app in starting.Where(t => t.IsCompletedSuccessfully))
            {
                await app.Result.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>Measures both apps one after the other; again (at most twice more) if other work took the machine meanwhile.</summary>
    private static async Task<Round> RoundAsync(
        Replica sample, Replica baseline, string path, int number, BenchOptions options, CpuMonitor cpu, TextWriter progress)
    {
        var sampleFirst = number % 2 == 1;
        for (var attempt = 1; ; attempt++)
        {
            Measured withLibrary, without;
            if (sampleFirst)
            {
                withLibrary = await MeasureAsync(new Uri(sample.Address, path), options, cpu, progress);
                without = await MeasureAsync(new Uri(baseline.Address, path), options, cpu, progress);
            }
            else
            {
                without = await MeasureAsync(new Uri(baseline.Address, path), options, cpu, progress);
                withLibrary = await MeasureAsync(new Uri(sample.Address, path), options, cpu, progress);
            }

            var others = Math.Max(withLibrary.Cpu.OtherPercent, without.Cpu.OtherPercent);
            if (others < cpu.QuietBelowPercent || attempt == MaxAttempts)
            {
                progress.WriteLine(Invariant(
                    $"[overhead] GET {path}: round {number}: sample {withLibrary.Wrk.RequestsPerSecond:F0}/s, baseline {without.Wrk.RequestsPerSecond:F0}/s, others {withLibrary.Cpu.OtherPercent:F1}%/{without.Cpu.OtherPercent:F1}%"));
                return new Round(number, 0, sampleFirst, withLibrary, without);
            }

            progress.WriteLine(Invariant($"[overhead] GET {path}: round {number}: others took {others:F0}% of the machine; measuring again"));
        }
    }

    /// <summary>One wrk run on a quiet machine, with what others used of it meanwhile.</summary>
    private static async Task<Measured> MeasureAsync(Uri target, BenchOptions options, CpuMonitor cpu, TextWriter progress)
    {
        await cpu.WaitQuietAsync(progress);
        var before = CpuMonitor.Take();
        var wrk = await WrkLoad.RunAsync(target, Threads, Connections, options.RoundDuration, options.LoadCpu);
        return new Measured(wrk, CpuMonitor.Usage.Between(before, CpuMonitor.Take()));
    }

    private sealed record Measured(WrkResult Wrk, CpuMonitor.Usage Cpu);

    private sealed record Round(int Number, int Pair, bool SampleFirst, Measured Sample, Measured Baseline)
    {
        public double Ratio => Sample.Wrk.RequestsPerSecond / Baseline.Wrk.RequestsPerSecond;
    }
}
