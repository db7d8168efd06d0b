using GracefulLifecycle.Shutdown;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using YamlDotNet.RepresentationModel;

namespace GracefulLifecycle.Tests.Kubernetes;

/// <summary>
/// Checks a Deployment against the options its container's environment sets: the budget fits
/// <c>terminationGracePeriodSeconds</c>, the probe and hook paths are the endpoints' paths, every probe port is a
/// container port the server listens on (HTTP/2 for <c>grpc:</c>), the probes use the management port the Service
/// does not expose, the liveness probe is the one the options declare and outlasts the drain, and a preStop sleep is
/// the one the options count.
/// </summary>
internal static class ManifestChecker
{
    public static YamlStream Load(string file)
    {
        var yaml = new YamlStream();
        using var reader = new StreamReader(Path.Combine(AppContext.BaseDirectory, "kubernetes", file));
        yaml.Load(reader);
        return yaml;
    }

    public static YamlMappingNode Deployment(YamlStream yaml) => Kind(yaml, "Deployment")!;

    public static YamlMappingNode Container(YamlStream yaml) => (YamlMappingNode)((YamlSequenceNode)Map(Map(Map(Deployment(yaml), "spec"), "template"), "spec")["containers"]).Children[0];

    public static List<string> Check(YamlStream yaml)
    {
        var problems = new List<string>();
        var podSpec = Map(Map(Map(Deployment(yaml), "spec"), "template"), "spec");
        var container = Container(yaml);
        var grace = TimeSpan.FromSeconds(podSpec.Children.TryGetValue("terminationGracePeriodSeconds", out var g) ? int.Parse(Text(g), null) : 30);

        var env = ((YamlSequenceNode)container["env"]).Children.Cast<YamlMappingNode>().ToDictionary(e => Text(e["name"]), e => e);
        var settings = env.ToDictionary(
            e => e.Key.Replace("__", ":", StringComparison.Ordinal),
            e => e.Value.Children.TryGetValue("value", out var v) ? Text(v) : "from-a-secret");

        GracefulLifecycleOptions options;
        ShutdownPlan plan;
        try
        {
            var services = new ServiceCollection();
            services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings!).Build());
            services.AddGracefulLifecycle();
            using var provider = services.BuildServiceProvider();
            options = provider.GetRequiredService<IOptions<GracefulLifecycleOptions>>().Value;
            plan = provider.GetRequiredService<ShutdownPlan>();
        }
        catch (OptionsValidationException ex)
        {
            problems.Add("the options fail validation: " + ex.Message);
            return problems;
        }

        if (options.TerminationGracePeriod != grace)
        {
            problems.Add($"GracefulLifecycle__TerminationGracePeriod ({options.TerminationGracePeriod}) is not terminationGracePeriodSeconds ({grace.TotalSeconds})");
        }

        if (plan.TerminationBudget > grace)
        {
            problems.Add($"the budget {plan.TerminationBudget} exceeds terminationGracePeriodSeconds ({grace.TotalSeconds})");
        }

        var containerPorts = ((YamlSequenceNode)container["ports"]).Children.Cast<YamlMappingNode>()
            .ToDictionary(p => p.Children.TryGetValue("name", out var n) ? Text(n) : Text(p["containerPort"]), p => int.Parse(Text(p["containerPort"]), null));
        var listening = ListeningPorts(settings);
        foreach (var (name, port) in containerPorts)
        {
            if (!listening.ContainsKey(port))
            {
                problems.Add($"container port {name} ({port}) is not one the server listens on");
            }
        }

        var exposed = Kind(yaml, "Service") is { } service
            ? ((YamlSequenceNode)Map(service, "spec")["ports"]).Children.Cast<YamlMappingNode>().Select(p => Resolve(Text(p["targetPort"]), containerPorts)).ToHashSet()
            : [];

        int? Port(string what, YamlNode node, bool http2)
        {
            var port = Resolve(Text(node), containerPorts);
            if (port is null)
            {
                problems.Add($"{what}: port {Text(node)} is not a container port");
            }
            else if (!listening.TryGetValue(port.Value, out var protocols))
            {
                problems.Add($"{what}: the server does not listen on port {port}");
            }
            else if (http2 ? protocols != "Http2" && protocols != "Http1AndHttp2" : protocols == "Http2")
            {
                problems.Add($"{what}: port {port} speaks {protocols}, the probe needs {(http2 ? "HTTP/2 (h2c)" : "HTTP/1.1")}");
            }

            return port;
        }

        void Probe(string probeName, string expectedPath, bool requireManagementPort)
        {
            if (!container.Children.TryGetValue(probeName, out var p))
            {
                problems.Add($"no {probeName}");
                return;
            }

            var probe = (YamlMappingNode)p;
            int? port;
            if (probe.Children.TryGetValue("httpGet", out var h))
            {
                var httpGet = (YamlMappingNode)h;
                if (Text(httpGet["path"]) != expectedPath)
                {
                    problems.Add($"{probeName}: path {Text(httpGet["path"])} is not the endpoint's path {expectedPath}");
                }

                port = Port(probeName, httpGet["port"], http2: false);
            }
            else if (probe.Children.TryGetValue("grpc", out var gr))
            {
                var portNode = ((YamlMappingNode)gr)["port"];
                if (!int.TryParse(Text(portNode), out _))
                {
                    problems.Add($"{probeName}: a grpc probe takes a port number, not a name ({Text(portNode)})");
                }

                port = Port(probeName, portNode, http2: true);
                requireManagementPort = false;
            }
            else
            {
                problems.Add($"{probeName}: neither httpGet nor grpc");
                return;
            }

            if (requireManagementPort && port is { } number && exposed.Contains(number))
            {
                problems.Add($"{probeName}: port {number} is exposed by the Service; probes belong on the management port");
            }
        }

        Probe("readinessProbe", options.ReadinessPath, requireManagementPort: true);
        Probe("livenessProbe", options.LivenessPath, requireManagementPort: true);

        // Readiness must fail over before the delay ends, or traffic is still sent when the server stops listening.
        var readiness = Map(container, "readinessProbe");
        var detection = TimeSpan.FromSeconds(int.Parse(Text(readiness["periodSeconds"]), null) * int.Parse(Text(readiness["failureThreshold"]), null));
        if (detection >= options.ShutdownDelay)
        {
            problems.Add($"readinessProbe: periodSeconds x failureThreshold ({detection.TotalSeconds} s) is not shorter than the shutdown delay ({options.ShutdownDelay})");
        }

        // The liveness probe the options declare is the one the kubelet runs, and it forgives the drain: probes are
        // refused from the start of the drain, and a drain that no pod deletion started is still probed.
        var liveness = Map(container, "livenessProbe");
        var livenessPeriod = TimeSpan.FromSeconds(liveness.Children.TryGetValue("periodSeconds", out var lp) ? int.Parse(Text(lp), null) : 10);
        var livenessThreshold = liveness.Children.TryGetValue("failureThreshold", out var lt) ? int.Parse(Text(lt), null) : 3;
        if (options.LivenessProbe.Period != livenessPeriod || options.LivenessProbe.FailureThreshold != livenessThreshold)
        {
            problems.Add(
                $"livenessProbe: periodSeconds {livenessPeriod.TotalSeconds} and failureThreshold {livenessThreshold} are not GracefulLifecycle__LivenessProbe__Period " +
                $"({options.LivenessProbe.Period?.ToString() ?? "unset"}) and GracefulLifecycle__LivenessProbe__FailureThreshold ({options.LivenessProbe.FailureThreshold})");
        }

        if (livenessPeriod * livenessThreshold < options.DrainTimeout + options.ShutdownMargin)
        {
            problems.Add(
                $"livenessProbe: periodSeconds x failureThreshold ({(livenessPeriod * livenessThreshold).TotalSeconds} s) is shorter than the drain and the margin " +
                $"({options.DrainTimeout + options.ShutdownMargin}): a drain that no pod deletion started would be cut by a restart");
        }

        var preStop = Map(Map(container, "lifecycle"), "preStop");
        if (preStop.Children.TryGetValue("sleep", out var s))
        {
            var seconds = TimeSpan.FromSeconds(int.Parse(Text(((YamlMappingNode)s)["seconds"]), null));
            if (seconds != options.PreStop.Sleep)
            {
                problems.Add($"preStop sleeps {seconds.TotalSeconds} s but GracefulLifecycle__PreStop__Sleep is {options.PreStop.Sleep}: the delay would be served twice or the budget miss the sleep");
            }
        }
        else if (preStop.Children.TryGetValue("httpGet", out var h))
        {
            var httpGet = (YamlMappingNode)h;
            if (Text(httpGet["path"]) != options.PreStopPath)
            {
                problems.Add($"preStop: path {Text(httpGet["path"])} is not the endpoint's path {options.PreStopPath}");
            }

            var port = Port("preStop", httpGet["port"], http2: false);
            if (options.PreStop.ManagementPort is { } management && port != management)
            {
                problems.Add($"preStop: port {port} is not GracefulLifecycle__PreStop__ManagementPort ({management}): the call would be refused with 404");
            }

            var headers = httpGet.Children.TryGetValue("httpHeaders", out var hh) ? ((YamlSequenceNode)hh).Children.Cast<YamlMappingNode>().Select(x => Text(x["name"])).ToList() : [];
            if (options.PreStop.Token is not null && !headers.Contains(options.PreStop.TokenHeaderName))
            {
                problems.Add($"preStop: no {options.PreStop.TokenHeaderName} header although a token is set: the call would be refused with 403");
            }

            if (options.PreStop.Sleep != TimeSpan.Zero)
            {
                problems.Add("preStop calls the endpoint, yet GracefulLifecycle__PreStop__Sleep is set");
            }
        }
        else
        {
            problems.Add("preStop: neither sleep nor httpGet");
        }

        CheckRollout(yaml, options, problems);
        CheckDisruptionBudget(yaml, problems);
        CheckPodReader(yaml, container, problems);
        return problems;
    }

    /// <summary>
    /// A rolling update that never lowers capacity: <c>maxUnavailable: 0</c> (an old pod goes only once a new one is
    /// available), <c>maxSurge</c> at least one (or the rollout could never start), and <c>minReadySeconds</c> at least
    /// the shutdown delay, the time load balancers take to add the new pod as to drop an old one.
    /// </summary>
    private static void CheckRollout(YamlStream yaml, GracefulLifecycleOptions options, List<string> problems)
    {
        var spec = Map(Deployment(yaml), "spec");
        var strategy = spec.Children.TryGetValue("strategy", out var st) ? (YamlMappingNode)st : null;
        if (strategy is not null && strategy.Children.TryGetValue("type", out var type) && Text(type) != "RollingUpdate")
        {
            problems.Add($"strategy: type {Text(type)} stops every old pod before starting new ones");
            return;
        }

        var rolling = strategy is not null && strategy.Children.TryGetValue("rollingUpdate", out var r) ? (YamlMappingNode)r : null;
        var maxUnavailable = rolling is not null && rolling.Children.TryGetValue("maxUnavailable", out var mu) ? Text(mu) : "25%";
        if (maxUnavailable is not ("0" or "0%"))
        {
            problems.Add($"strategy: maxUnavailable {maxUnavailable} lets a rollout stop old pods before new ones are available; set 0");
        }

        var maxSurge = rolling is not null && rolling.Children.TryGetValue("maxSurge", out var ms) ? Text(ms) : "25%";
        if (maxSurge is "0" or "0%")
        {
            problems.Add("strategy: maxSurge 0 with maxUnavailable 0 is refused by the API server (the rollout could never start); set 1");
        }

        var minReady = spec.Children.TryGetValue("minReadySeconds", out var mr) ? int.Parse(Text(mr), null) : 0;
        if (TimeSpan.FromSeconds(minReady) < options.ShutdownDelay)
        {
            problems.Add(
                $"minReadySeconds ({minReady}) is shorter than the shutdown delay ({options.ShutdownDelay}): an old pod could go before load balancers route to its replacement");
        }
    }

    /// <summary>A PodDisruptionBudget over the Deployment's pods that lets a drain evict one at a time.</summary>
    private static void CheckDisruptionBudget(YamlStream yaml, List<string> problems)
    {
        var pdb = Kind(yaml, "PodDisruptionBudget");
        if (pdb is null)
        {
            problems.Add("no PodDisruptionBudget: a node drain may evict every replica at once");
            return;
        }

        if (Text(pdb["apiVersion"]) != "policy/v1")
        {
            problems.Add($"PodDisruptionBudget: apiVersion {Text(pdb["apiVersion"])} is not policy/v1 (policy/v1beta1 was removed in 1.25)");
        }

        var spec = Map(pdb, "spec");
        if (!Labels(Map(spec, "selector")).SequenceEqual(Labels(Map(Map(Deployment(yaml), "spec"), "selector"))))
        {
            problems.Add("PodDisruptionBudget: its selector is not the Deployment's");
        }

        var replicas = int.Parse(Text(Map(Deployment(yaml), "spec")["replicas"]), null);
        var allowed = spec.Children.TryGetValue("maxUnavailable", out var mu) ? int.Parse(Text(mu), null)
            : spec.Children.TryGetValue("minAvailable", out var ma) ? replicas - int.Parse(Text(ma), null)
            : 0;
        if (allowed < 1)
        {
            problems.Add("PodDisruptionBudget: allows no eviction, so a node drain would block for ever");
        }
    }

    /// <summary>
    /// What GracefulLifecycle.Kubernetes needs to read its own pod: the pod runs as a service account bound to a Role
    /// that may <c>get</c> pods (and nothing else), and knows its name (POD_NAME from the downward API).
    /// </summary>
    private static void CheckPodReader(YamlStream yaml, YamlMappingNode container, List<string> problems)
    {
        var podSpec = Map(Map(Map(Deployment(yaml), "spec"), "template"), "spec");
        if (!podSpec.Children.TryGetValue("serviceAccountName", out var sa))
        {
            problems.Add("no serviceAccountName: the pod runs as the namespace's default service account, which the Role is not bound to");
            return;
        }

        var account = Text(sa);
        if (podSpec.Children.TryGetValue("automountServiceAccountToken", out var mount) && Text(mount) == "false")
        {
            problems.Add("automountServiceAccountToken: false leaves no token to read the pod with");
        }

        if (Kind(yaml, "ServiceAccount") is not { } serviceAccount || Text(Map(serviceAccount, "metadata")["name"]) != account)
        {
            problems.Add($"no ServiceAccount {account}");
        }

        var role = Kind(yaml, "Role");
        var binding = Kind(yaml, "RoleBinding");
        if (role is null || binding is null)
        {
            problems.Add("no Role and RoleBinding letting the service account get its pod");
            return;
        }

        var rules = ((YamlSequenceNode)role["rules"]).Children.Cast<YamlMappingNode>().ToArray();
        string[] Items(YamlMappingNode rule, string key) => [.. ((YamlSequenceNode)rule[key]).Children.Select(Text)];
        if (!rules.Any(rule => Items(rule, "apiGroups").Contains("") && Items(rule, "resources").Contains("pods") && Items(rule, "verbs").Contains("get")))
        {
            problems.Add("Role: no rule allows get on pods (apiGroups [\"\"], resources [\"pods\"], verbs [\"get\"])");
        }

        if (rules.SelectMany(rule => Items(rule, "verbs")).Any(verb => verb != "get") || rules.SelectMany(rule => Items(rule, "resources")).Any(resource => resource != "pods"))
        {
            problems.Add("Role: grants more than get on pods");
        }

        var roleRef = Map(binding, "roleRef");
        if (Text(roleRef["kind"]) != "Role" || Text(roleRef["name"]) != Text(Map(role, "metadata")["name"]))
        {
            problems.Add("RoleBinding: roleRef is not the Role");
        }

        if (!((YamlSequenceNode)binding["subjects"]).Children.Cast<YamlMappingNode>().Any(s => Text(s["kind"]) == "ServiceAccount" && Text(s["name"]) == account))
        {
            problems.Add($"RoleBinding: does not bind ServiceAccount {account}");
        }

        var podName = ((YamlSequenceNode)container["env"]).Children.Cast<YamlMappingNode>().FirstOrDefault(e => Text(e["name"]) == "POD_NAME");
        var fieldPath = podName is not null && podName.Children.TryGetValue("valueFrom", out var from)
            && ((YamlMappingNode)from).Children.TryGetValue("fieldRef", out var fieldRef) && ((YamlMappingNode)fieldRef).Children.TryGetValue("fieldPath", out var path)
            ? Text(path)
            : null;
        if (fieldPath != "metadata.name")
        {
            problems.Add("no POD_NAME from the downward API (fieldRef metadata.name)");
        }
    }

    private static IEnumerable<KeyValuePair<string, string>> Labels(YamlMappingNode selector) =>
        Map(selector, "matchLabels").Children.Select(kv => KeyValuePair.Create(Text(kv.Key), Text(kv.Value))).OrderBy(kv => kv.Key, StringComparer.Ordinal);

    /// <summary>The ports the server listens on, from ASPNETCORE_HTTP_PORTS, ASPNETCORE_URLS or Kestrel endpoints, with their protocols.</summary>
    private static Dictionary<int, string> ListeningPorts(Dictionary<string, string> settings)
    {
        var ports = new Dictionary<int, string>();
        if (settings.TryGetValue("ASPNETCORE_HTTP_PORTS", out var httpPorts))
        {
            foreach (var port in httpPorts.Split(';', StringSplitOptions.RemoveEmptyEntries))
            {
                ports[int.Parse(port, null)] = "Http1AndHttp2";
            }
        }

        if (settings.TryGetValue("ASPNETCORE_URLS", out var urls))
        {
            foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries))
            {
                ports[new Uri(url.Replace("+", "localhost", StringComparison.Ordinal)).Port] = "Http1AndHttp2";
            }
        }

        foreach (var (key, url) in settings.Where(s => s.Key.StartsWith("Kestrel:Endpoints:", StringComparison.Ordinal) && s.Key.EndsWith(":Url", StringComparison.Ordinal)))
        {
            var endpoint = key[..^":Url".Length];
            ports[new Uri(url.Replace("+", "localhost", StringComparison.Ordinal)).Port] =
                settings.TryGetValue(endpoint + ":Protocols", out var protocols) ? protocols : "Http1AndHttp2";
        }

        // Without TLS, Kestrel's Http1AndHttp2 speaks HTTP/1.1 only (no h2c upgrade): what a cleartext probe gets.
        return ports.ToDictionary(p => p.Key, p => p.Value == "Http1AndHttp2" ? "Http1" : p.Value);
    }

    private static int? Resolve(string port, Dictionary<string, int> containerPorts) =>
        int.TryParse(port, out var number) ? (containerPorts.ContainsValue(number) ? number : null)
        : containerPorts.TryGetValue(port, out var named) ? named : null;

    private static YamlMappingNode? Kind(YamlStream yaml, string kind) =>
        yaml.Documents.Select(d => (YamlMappingNode)d.RootNode).FirstOrDefault(d => Text(d["kind"]) == kind);

    private static YamlMappingNode Map(YamlMappingNode node, string key) => (YamlMappingNode)node[key];

    private static string Text(YamlNode node) => ((YamlScalarNode)node).Value!;
}
