using GracefulLifecycle.Drill;

// Usage:
//   dotnet run --project eng/drill/GracefulLifecycle.Drill -c Release -- [--scenario baseline|sigterm|prestop|etcd]
//       [--mode tcp|http] [--rollouts N] [--timeline]
//   With no --scenario, runs every scenario (baseline, then the library in both modes, then etcd).
var scenario = Option("--scenario");
var mode = Option("--mode");
var rollouts = int.Parse(Option("--rollouts") ?? "3", System.Globalization.CultureInfo.InvariantCulture);
var timeline = args.Contains("--timeline");

var runs = new List<DrillSettings>();
if (scenario is not null)
{
    var s = Enum.Parse<DrillScenario>(scenario, ignoreCase: true);
    var m = s == DrillScenario.Etcd ? BalancerMode.None : Enum.Parse<BalancerMode>(mode ?? "tcp", ignoreCase: true);
    runs.Add(new DrillSettings(s, m, rollouts) { Timeline = timeline });
}
else
{
    foreach (var s in new[] { DrillScenario.Baseline, DrillScenario.SigTerm, DrillScenario.PreStop })
    {
        foreach (var m in new[] { BalancerMode.Tcp, BalancerMode.Http })
        {
            runs.Add(new DrillSettings(s, m, rollouts) { Timeline = timeline });
        }
    }

    runs.Add(new DrillSettings(DrillScenario.Etcd, BalancerMode.None, rollouts) { Timeline = timeline });
}

var results = new List<DrillResult>();
foreach (var run in runs)
{
    results.Add(await DrillRunner.RunAsync(run, Console.Out));
}

Console.WriteLine();
Console.WriteLine("Drill summary:");
foreach (var result in results)
{
    Console.WriteLine($"  {result}");
}

string? Option(string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}
