using GracefulLifecycle.Drill;

// Usage:
//   dotnet run --project eng/drill/GracefulLifecycle.Drill -c Release -- [--scenario baseline|sigterm|prestop|etcd|websocket|signalr]
//       [--mode tcp|http] [--rollouts N] [--timeline] [--app baseline|library] [--clients N]
//   With no --scenario, runs every scenario (baseline, then the library in both modes, then etcd, then the
//   long-lived connections). websocket and signalr run the baseline app, then the library's sample, in tcp mode;
//   --app runs only one of them. DRILL_DEBUG=1 prints what HAProxy, wrk and each old replica logged.
//   --scenario adaptive: the fixed delay against the adaptive one (AdaptiveDelay.Scenarios), same run, each pair in
//   turn; --only TEXT keeps the runs whose name contains TEXT (e.g. --only inter4s).
//   --scenario eureka|consul --registry-url URL: the consumer chain (ConsumerChainScenarios), the derived delay then
//   the old derivation, against a running Eureka server (URL ends in /eureka/, its responseCacheUpdateIntervalMs
//   given by --server-cache, 00:00:01 by default) or Consul agent. The drill tests host the in-repo fakes for it.
//   --fetch-interval and --lb-cache-ttl change the consumers' (00:00:01 and 00:00:03).
//   --scenario discovery-etcd|gateway: the replicas in etcd, called through Microsoft.Extensions.ServiceDiscovery and the
//   etcd endpoint provider by a resolved HttpClient or the YARP gateway sample (DiscoveryScenarios);
//   --scenario discovery-consul|gateway-consul --registry-url URL: the same against a running Consul agent.
//   --scenario kubernetes --api-server URL --namespace NS --pod NAME: a container restart without deletion
//   (KubernetesScenarios), the replicas reading the pod NAME through URL (kubectl proxy, or the drill tests' fake API
//   server); the pod's readiness probe: httpGet /ifready, periodSeconds 1, failureThreshold 3.
var scenario = Option("--scenario");
var mode = Option("--mode");
var rollouts = int.Parse(Option("--rollouts") ?? "3", System.Globalization.CultureInfo.InvariantCulture);
var timeline = args.Contains("--timeline");
var app = Option("--app");
var clients = Option("--clients") is { } c ? int.Parse(c, System.Globalization.CultureInfo.InvariantCulture) : (int?)null;

var runs = new List<DrillSettings>();
if (scenario is "kubernetes")
{
    // A container restart without deletion, without then with GracefulLifecycle.Kubernetes (KubernetesScenarios).
    runs.AddRange(KubernetesScenarios.Pair(KubernetesScenarios.PodSettings(Option("--api-server"), Option("--namespace"), Option("--pod")), rollouts));
}
else if (scenario is "adaptive")
{
    var only = Option("--only");
    runs.AddRange(AdaptiveDelayScenarios.All(rollouts).Where(r => only is null || r.Name.Contains(only, StringComparison.OrdinalIgnoreCase)));
}
else if (scenario is "eureka" or "consul")
{
    var registryUrl = Option("--registry-url") ?? throw new ArgumentException($"--scenario {scenario} needs --registry-url: a Eureka server's base URL or a Consul agent's address.");
    var chain = new ConsumerChain(new Uri(registryUrl));
    chain = chain with
    {
        ServerCache = Duration("--server-cache") ?? chain.ServerCache,
        FetchInterval = Duration("--fetch-interval") ?? chain.FetchInterval,
        LoadBalancerCacheTtl = Duration("--lb-cache-ttl") ?? chain.LoadBalancerCacheTtl,
    };
    var registry = Enum.Parse<DrillScenario>(scenario, ignoreCase: true);
    Console.WriteLine(ConsumerChainScenarios.Describe(registry, chain));
    runs.AddRange(ConsumerChainScenarios.Pair(registry, chain, rollouts));
}
else if (scenario is not null && DiscoveryScenarios.Names.Contains(scenario))
{
    runs.Add(DiscoveryScenarios.Create(scenario, rollouts, Option("--registry-url") is { } agent ? new Uri(agent) : null) with { Timeline = timeline });
}
else if (scenario is "websocket" or "signalr")
{
    runs.AddRange(LongLived(Enum.Parse<DrillLoad>(scenario, ignoreCase: true)));
}
else if (scenario is not null)
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
    runs.AddRange(LongLived(DrillLoad.WebSocket));
    runs.AddRange(LongLived(DrillLoad.SignalR));
}

var results = new List<object>();
foreach (var run in runs)
{
    results.Add(await DrillRunner.RunAnyAsync(run, Console.Out));
}

Console.WriteLine();
Console.WriteLine("Drill summary:");
foreach (var result in results)
{
    Console.WriteLine($"  {result}");
}

// The baseline first, then the library, so one run shows what the library changes. SignalR rolls 2 replicas.
IEnumerable<DrillSettings> LongLived(DrillLoad load)
{
    foreach (var s in new[] { DrillScenario.Baseline, DrillScenario.SigTerm })
    {
        if (app is null || (app == "baseline") == (s == DrillScenario.Baseline))
        {
            var settings = new DrillSettings(s, BalancerMode.Tcp, rollouts) { Load = load, Replicas = load == DrillLoad.SignalR ? 2 : 3 };
            yield return clients is { } n ? settings with { Clients = n } : settings;
        }
    }
}

TimeSpan? Duration(string name) =>
    Option(name) is { } text ? TimeSpan.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : null;

string? Option(string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}
