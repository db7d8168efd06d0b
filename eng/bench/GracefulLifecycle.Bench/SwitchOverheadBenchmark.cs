using GracefulLifecycle.Drill;
using static System.FormattableString;

namespace GracefulLifecycle.Bench;

/// <summary>
/// One app, the drill's baseline, with and without the library (<c>Baseline:UseLibrary</c>, same handlers), and an
/// A/A control: two processes without it, measured in the same rounds, so the noise of the machine and of the JIT
/// shows next to the cost. Each round measures the three processes one after the other, the order rotating from round
/// to round; the rounds are spread over fresh groups of processes, since JIT and PGO outcomes differ per process.
/// </summary>
internal static class SwitchOverheadBenchmark
{
    private const int Threads = 1;
    private const int Connections = 32;
    private const string Path = "/";

    public static async Task RunAsync(BenchOptions options, bool adaptive, CpuMonitor cpu, TextWriter results, TextWriter progress)
    {
        var rounds = new List<(int Group, double With, double WithoutA, double WithoutB, string Order, double Others)>();
        var groups = Math.Clamp(options.Pairs, 1, options.Rounds);
        var round = 0;
        for (var group = 1; group <= groups; group++)
        {
            var with = Settings(true, adaptive, options.NoPgo);
            var without = Settings(false, false, options.NoPgo);
            await using var w = await Apps.StartReadyAsync(Apps.Baseline, with, options.ServerCpu);
            await using var a = await Apps.StartReadyAsync(Apps.Baseline, without, options.ServerCpu);
            await using var b = await Apps.StartReadyAsync(Apps.Baseline, without, options.ServerCpu);
            var apps = new (string Name, Replica App)[] { ("with", w), ("without A", a), ("without B", b) };
            foreach (var (name, app) in apps)
            {
                progress.WriteLine(Invariant($"[switch] group {group}: warming up {name}"));
                await WrkLoad.RunAsync(new Uri(app.Address, Path), Threads, Connections, options.WarmupDuration, options.LoadCpu);
            }

            var last = options.Rounds * group / groups;
            while (round < last)
            {
                round++;

                // Rotate the order: with first, second and third in turn.
                var order = Enumerable.Range(0, 3).Select(i => apps[(i + round) % 3]).ToArray();
                var rps = new Dictionary<string, double>();
                double others = 0;
                foreach (var (name, app) in order)
                {
                    await cpu.WaitQuietAsync(progress);
                    var before = CpuMonitor.Take();
                    var wrk = await WrkLoad.RunAsync(new Uri(app.Address, Path), Threads, Connections, options.RoundDuration, options.LoadCpu);
                    others = Math.Max(others, CpuMonitor.Usage.Between(before, CpuMonitor.Take()).OtherPercent);
                    rps[name] = wrk.RequestsPerSecond;
                    if (wrk.Non2xx + wrk.SocketErrors > 0)
                    {
                        throw new InvalidOperationException($"{name}: {wrk.Non2xx} non-2xx answers, {wrk.SocketErrors} socket errors.");
                    }
                }

                var measured = (group, rps["with"], rps["without A"], rps["without B"], string.Join(", ", order.Select(o => o.Name)), others);
                rounds.Add(measured);
                progress.WriteLine(Invariant($"[switch] round {round}: with {measured.Item2:F0}/s, without A {measured.Item3:F0}/s, without B {measured.Item4:F0}/s, others {others:F0}%"));
            }
        }

        results.WriteLine(Invariant(
            $"### Same app with and without the library{(adaptive ? " (AdaptiveDelay on)" : string.Empty)}, A/A control (GET {Path}, wrk -t{Threads} -c{Connections}, {options.RoundDuration.TotalSeconds:F0} s per measurement, {groups} groups of 3 processes warmed up {options.WarmupDuration.TotalSeconds:F0} s each, servers on CPU {options.ServerCpu}, wrk on CPU {options.LoadCpu}{(options.NoPgo ? ", DOTNET_TieredPGO=0" : string.Empty)})"));
        results.WriteLine();
        results.WriteLine("| Round | Group | Order | With req/s | Without A req/s | Without B req/s | With / without A | A/A: B / A | Other CPU % |");
        results.WriteLine("|---:|---:|---|---:|---:|---:|---:|---:|---:|");
        var i = 0;
        foreach (var r in rounds)
        {
            i++;
            results.WriteLine(Invariant($"| {i} | {r.Group} | {r.Order} | {r.With:F0} | {r.WithoutA:F0} | {r.WithoutB:F0} | {r.With / r.WithoutA:F3} | {r.WithoutB / r.WithoutA:F3} | {r.Others:F0} |"));
        }

        var lib = rounds.Select(r => r.With / r.WithoutA).ToArray();
        var libB = rounds.Select(r => r.With / r.WithoutB).ToArray();
        var aa = rounds.Select(r => r.WithoutB / r.WithoutA).ToArray();
        results.WriteLine();
        results.WriteLine(Invariant(
            $"Median with/without A **{Stats.Median(lib):F3}** (min {lib.Min():F3}, max {lib.Max():F3}); with/without B {Stats.Median(libB):F3} (min {libB.Min():F3}, max {libB.Max():F3}); A/A control **{Stats.Median(aa):F3}** (min {aa.Min():F3}, max {aa.Max():F3})."));
        results.WriteLine();
    }

    private static Dictionary<string, string> Settings(bool useLibrary, bool adaptive, bool noPgo)
    {
        var settings = Apps.Settings(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15));
        settings["Baseline__UseLibrary"] = useLibrary ? "true" : "false";
        if (adaptive)
        {
            settings["GracefulLifecycle__AdaptiveDelay__Enabled"] = "true";
        }

        if (noPgo)
        {
            settings["DOTNET_TieredPGO"] = "0";
        }

        return settings;
    }
}
