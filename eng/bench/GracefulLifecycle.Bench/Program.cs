using System.Globalization;
using GracefulLifecycle.Bench;
using static System.FormattableString;

// Usage:
//   dotnet eng/bench/GracefulLifecycle.Bench/bin/Release/net10.0/GracefulLifecycle.Bench.dll
//       [--only overhead|shutdown|probes]... [--rounds 6] [--pairs 2] [--round-seconds 5] [--warmup-seconds 15]
//       [--runs 5] [--probe-seconds 20]
//       [--quiet-below 10] [--max-wait-seconds 120] [--no-pgo]
//   --only switch: the drill's baseline app with and without the library (one switch), with an A/A control;
//   --only switch-adaptive: the same with AdaptiveDelay on. Neither runs unless asked for.
// Results go to standard output as Markdown tables, progress to standard error. Before each measurement it waits
// (at most --max-wait-seconds) until other processes use less than --quiet-below percent of the machine.
var options = new BenchOptions
{
    Rounds = IntOption("--rounds") ?? 6,
    RoundDuration = TimeSpan.FromSeconds(IntOption("--round-seconds") ?? 5),
    Pairs = IntOption("--pairs") ?? 2,
    WarmupDuration = TimeSpan.FromSeconds(IntOption("--warmup-seconds") ?? 15),
    Runs = IntOption("--runs") ?? 5,
    ProbeDuration = TimeSpan.FromSeconds(IntOption("--probe-seconds") ?? 20),
    Only = args.Select((a, i) => (a, i)).Where(p => p.a == "--only" && p.i + 1 < args.Length).Select(p => args[p.i + 1])
        .ToHashSet(StringComparer.OrdinalIgnoreCase),
    NoPgo = args.Contains("--no-pgo"),
};

string[] known = ["overhead", "shutdown", "probes", "switch", "switch-adaptive"];
if (options.Only.FirstOrDefault(name => !known.Contains(name, StringComparer.OrdinalIgnoreCase)) is { } unknown)
{
    return Fail($"--only {unknown}: expected one of {string.Join(", ", known)}.");
}

foreach (var (name, value) in new[] { ("--rounds", options.Rounds), ("--pairs", options.Pairs), ("--runs", options.Runs) })
{
    if (value < 1)
    {
        return Fail($"{name} must be at least 1 (got {value}).");
    }
}

var cpu = new CpuMonitor
{
    QuietBelowPercent = IntOption("--quiet-below") ?? 10,
    MaxWait = TimeSpan.FromSeconds(IntOption("--max-wait-seconds") ?? 120),
};
var results = Console.Out;
var progress = Console.Error;
results.WriteLine(Invariant($"Load average at start: {LoadAverage()}"));
results.WriteLine();

if (options.Only.Contains("switch"))
{
    await SwitchOverheadBenchmark.RunAsync(options, adaptive: false, cpu, results, progress);
}

if (options.Only.Contains("switch-adaptive"))
{
    await SwitchOverheadBenchmark.RunAsync(options, adaptive: true, cpu, results, progress);
}

if (options.Includes("overhead"))
{
    await OverheadBenchmark.RunAsync(options, cpu, results, progress);
}

if (options.Includes("shutdown"))
{
    await ShutdownBenchmark.RunAsync(options, cpu, results, progress);
}

if (options.Includes("probes"))
{
    await ProbeBenchmark.RunAsync(options, cpu, results, progress);
}

results.WriteLine(Invariant($"Load average at end: {LoadAverage()}"));
return 0;

static int Fail(string message)
{
    Console.Error.WriteLine(message);
    return 2;
}

int? IntOption(string name)
{
    var index = Array.IndexOf(args, name);
    if (index < 0)
    {
        return null;
    }

    return index + 1 < args.Length && int.TryParse(args[index + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var value)
        ? value
        : throw new ArgumentException($"{name} needs a whole number.");
}

static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
