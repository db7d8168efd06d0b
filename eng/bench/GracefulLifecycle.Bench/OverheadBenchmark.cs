using static System.FormattableString;

namespace GracefulLifecycle.Bench;

/// <summary>
/// Requests per second of the sample (with the library) against the baseline app (without it), interleaved in one run:
/// both apps run pinned to the same CPU, wrk pinned to the other, and the two take turns for each round, the order
/// alternating from round to round, so drift in the machine's speed falls on both alike.
/// </summary>
internal static class OverheadBenchmark
{
    private const int Threads = 1;
    private const int Connections = 32;

    /// <summary>
    /// <c>/</c> is the endpoint asked for; its handlers differ a little (the sample also prints the phase).
    /// <c>/slow?ms=0</c> runs the same handler code in both apps, so its ratio is the library's alone.
    /// </summary>
    private static readonly string[] Paths = ["/", "/slow?ms=0"];

    public static async Task RunAsync(BenchOptions options, TextWriter results, TextWriter progress)
    {
        var settings = Apps.Settings(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15));
        await using var sample = await Apps.StartReadyAsync(Apps.Sample, settings, options.ServerCpu);
        await using var baseline = await Apps.StartReadyAsync(Apps.Baseline, settings, options.ServerCpu);

        results.WriteLine(Invariant($"### a. Per-request overhead (wrk -t{Threads} -c{Connections}, {options.RoundDuration.TotalSeconds:F0} s rounds, servers on CPU {options.ServerCpu}, wrk on CPU {options.LoadCpu})"));
        foreach (var path in Paths)
        {
            var sampleUri = new Uri(sample.Address, path);
            var baselineUri = new Uri(baseline.Address, path);

            progress.WriteLine(Invariant($"[overhead] GET {path}: warm-up round"));
            await RoundAsync(sampleUri, options);
            await RoundAsync(baselineUri, options);

            var rounds = new List<(int Round, bool SampleFirst, WrkResult Sample, WrkResult Baseline)>();
            for (var round = 1; round <= options.Rounds; round++)
            {
                var sampleFirst = round % 2 == 1;
                WrkResult withLibrary, without;
                if (sampleFirst)
                {
                    withLibrary = await RoundAsync(sampleUri, options);
                    without = await RoundAsync(baselineUri, options);
                }
                else
                {
                    without = await RoundAsync(baselineUri, options);
                    withLibrary = await RoundAsync(sampleUri, options);
                }

                rounds.Add((round, sampleFirst, withLibrary, without));
                progress.WriteLine(Invariant($"[overhead] GET {path}: round {round}: sample {withLibrary.RequestsPerSecond:F0}/s, baseline {without.RequestsPerSecond:F0}/s"));
            }

            var ratios = rounds.Select(r => r.Sample.RequestsPerSecond / r.Baseline.RequestsPerSecond).ToList();
            results.WriteLine();
            results.WriteLine(Invariant($"GET {path}"));
            results.WriteLine();
            results.WriteLine("| Round | First | Sample req/s | Baseline req/s | Ratio | Sample p99 (ms) | Baseline p99 (ms) |");
            results.WriteLine("|---:|---|---:|---:|---:|---:|---:|");
            foreach (var (round, sampleFirst, withLibrary, without) in rounds)
            {
                results.WriteLine(Invariant(
                    $"| {round} | {(sampleFirst ? "sample" : "baseline")} | {withLibrary.RequestsPerSecond:F0} | {without.RequestsPerSecond:F0} | {withLibrary.RequestsPerSecond / without.RequestsPerSecond:F3} | {withLibrary.LatencyP99Ms:F2} | {without.LatencyP99Ms:F2} |"));
            }

            var errors = rounds.Sum(r => r.Sample.Non2xx + r.Sample.SocketErrors + r.Baseline.Non2xx + r.Baseline.SocketErrors);
            results.WriteLine();
            results.WriteLine(Invariant(
                $"Median ratio sample/baseline: **{Stats.Median(ratios):F3}** (min {ratios.Min():F3}, max {ratios.Max():F3}); median req/s sample {Stats.Median(rounds.Select(r => r.Sample.RequestsPerSecond)):F0}, baseline {Stats.Median(rounds.Select(r => r.Baseline.RequestsPerSecond)):F0}; non-2xx and socket errors: {errors}."));
        }

        results.WriteLine();
    }

    private static Task<WrkResult> RoundAsync(Uri target, BenchOptions options) =>
        WrkLoad.RunAsync(target, Threads, Connections, options.RoundDuration, options.LoadCpu);
}
