using System.Globalization;

namespace GracefulLifecycle.Kubernetes;

/// <summary>One thing the pod spec says that the options contradict.</summary>
/// <param name="Message">Names the pod field and the option, with both values, and what to change.</param>
/// <param name="LosesRequests">
/// True when the contradiction loses requests (or makes a hook that cannot work): it fails startup unless
/// <see cref="KubernetesOptions.OnMismatch"/> is <see cref="KubernetesMismatchAction.Warn"/>. False for advice, always
/// a warning.
/// </param>
internal sealed record PodFinding(string Message, bool LosesRequests);

/// <summary>What the check compares the pod with.</summary>
/// <param name="Options">The lifecycle's options.</param>
/// <param name="Timings">The shutdown timings in force.</param>
/// <param name="ListeningPorts">The ports the server listens on; empty when unknown (no port is then checked).</param>
/// <param name="IsMapped">Whether the application routes a path (an endpoint of its own a probe may target).</param>
/// <param name="ContainerName"><see cref="KubernetesOptions.ContainerName"/>.</param>
internal sealed record PodCheckInput(
    GracefulLifecycleOptions Options,
    ShutdownTimings Timings,
    IReadOnlySet<int> ListeningPorts,
    Func<string, bool> IsMapped,
    string? ContainerName);

/// <summary>
/// Holds the pod spec against the lifecycle's options: the grace period against the shutdown budget, each probe's
/// path and port against the endpoints, the readiness failover against the grace period, the preStop hook against
/// <see cref="PreStopOptions"/>. Pure: the pod and what the process knows in, the findings out.
/// </summary>
internal static partial class PodSpecCheck
{
    private const string Core = GracefulLifecycleOptions.SectionName + ":";

    /// <summary>Finds this application's container: by name, the only one, or the one declaring a port the server listens on.</summary>
    public static (PodContainer? Container, int Index, PodFinding? Problem) FindContainer(KubernetesPod pod, PodCheckInput input)
    {
        var containers = pod.Containers;
        if (input.ContainerName is { } wanted)
        {
            for (var i = 0; i < containers.Count; i++)
            {
                if (containers[i].Name == wanted)
                {
                    return (containers[i], i, null);
                }
            }

            return (null, -1, new PodFinding(
                $"{KubernetesOptions.SectionName}:{nameof(KubernetesOptions.ContainerName)} is '{wanted}', but pod {pod.Namespace}/{pod.Name} has no such container " +
                $"(spec.containers: {string.Join(", ", containers.Select(c => c.Name))}). Set it to this application's container.",
                LosesRequests: true));
        }

        if (containers.Count == 1)
        {
            return (containers[0], 0, null);
        }

        var serving = containers.Select((c, i) => (c, i)).Where(x => x.c.Ports.Any(p => input.ListeningPorts.Contains(p.Port))).ToArray();
        if (serving.Length == 1)
        {
            return (serving[0].c, serving[0].i, null);
        }

        return (null, -1, new PodFinding(
            $"Pod {pod.Namespace}/{pod.Name} has {containers.Count} containers ({string.Join(", ", containers.Select(c => c.Name))}) and none or several declare a port the server " +
            $"listens on ({Ports(input.ListeningPorts)}): its probes and preStop hook are not checked. Set {KubernetesOptions.SectionName}:{nameof(KubernetesOptions.ContainerName)}.",
            LosesRequests: false));
    }

    public static IReadOnlyList<PodFinding> Check(KubernetesPod pod, PodCheckInput input)
    {
        var findings = new List<PodFinding>();
        var timings = input.Timings;
        var options = input.Options;
        var grace = TimeSpan.FromSeconds(pod.GracePeriodSeconds);
        var graceField = $"spec.terminationGracePeriodSeconds ({pod.GracePeriodSeconds})";

        if (timings.TerminationBudget > grace)
        {
            findings.Add(new PodFinding(
                $"{graceField} is shorter than the shutdown budget, {Seconds(timings.TerminationBudget)} ({Budget(timings)}), which fits " +
                $"{Core}{nameof(options.TerminationGracePeriod)} ({options.TerminationGracePeriod}) but not the pod's grace period: the kubelet would kill the process " +
                $"mid-drain. Raise terminationGracePeriodSeconds to at least {CeilingSeconds(timings.TerminationBudget)}, or set {Core}{nameof(options.TerminationGracePeriod)} " +
                $"to {Duration(grace)} and shorten the delay or the drain to fit.",
                LosesRequests: true));
        }
        else if (options.TerminationGracePeriod != grace)
        {
            findings.Add(new PodFinding(
                $"{Core}{nameof(options.TerminationGracePeriod)} ({options.TerminationGracePeriod}) differs from {graceField}: the budget fits the pod's, but " +
                $"the lifecycle times a preStop call with no SIGTERM after it by its own figure. Set it to {Duration(grace)}.",
                LosesRequests: false));
        }

        var (container, index, problem) = FindContainer(pod, input);
        if (problem is not null)
        {
            findings.Add(problem);
        }

        if (container is null)
        {
            return findings;
        }

        var at = $"spec.containers[{index}]";
        CheckReadiness(findings, container, at, grace, input);
        CheckLiveness(findings, container, at, input);
        CheckStartup(findings, container, at, input);
        CheckPreStop(findings, container, at, grace, input);
        return findings;
    }

    private static void CheckReadiness(List<PodFinding> findings, PodContainer container, string at, TimeSpan grace, PodCheckInput input)
    {
        var options = input.Options;
        var field = $"{at}.readinessProbe";
        if (container.ReadinessProbe is not { } probe)
        {
            findings.Add(new PodFinding(
                $"{field} is not set (container '{container.Name}'): Kubernetes sends traffic as soon as the container starts, before preload ends, and keeps a " +
                $"restarted container in the Service until it exits. Add a readinessProbe with httpGet path {options.ReadinessPath} ({Core}{nameof(options.ReadinessPath)}).",
                LosesRequests: true));
            return;
        }

        CheckProbeTarget(findings, container, field, probe, options.ReadinessPath, $"{Core}{nameof(options.ReadinessPath)}", input, readiness: true);

        // A container restarted without deletion (failed liveness, an in-place resize) stays in the endpoints until the
        // readiness probe has failed failureThreshold times; the instance must serve that long, then drain, before the kill.
        var failover = TimeSpan.FromSeconds((long)probe.PeriodSeconds * probe.FailureThreshold);
        var needed = failover + options.DrainTimeout + options.ShutdownMargin;
        if (needed > grace)
        {
            findings.Add(new PodFinding(
                $"{field}.periodSeconds ({probe.PeriodSeconds}) × failureThreshold ({probe.FailureThreshold}) = {Seconds(failover)}, + {Core}{nameof(options.DrainTimeout)} " +
                $"({options.DrainTimeout}) + {Core}{nameof(options.ShutdownMargin)} ({options.ShutdownMargin}) = {Seconds(needed)} exceeds spec.terminationGracePeriodSeconds " +
                $"({(long)grace.TotalSeconds}): a container restarted without deletion stays in the Service's endpoints until readiness has failed {probe.FailureThreshold} times, " +
                $"so it could not both wait for that and drain before the kill. Probe readiness more often or with a lower failureThreshold, shorten the drain, or raise " +
                $"terminationGracePeriodSeconds to at least {CeilingSeconds(needed)}.",
                LosesRequests: true));
        }
    }

    private static void CheckLiveness(List<PodFinding> findings, PodContainer container, string at, PodCheckInput input)
    {
        var options = input.Options;
        if (container.LivenessProbe is not { } probe)
        {
            return;
        }

        var field = $"{at}.livenessProbe";
        CheckProbeTarget(findings, container, field, probe, options.LivenessPath, $"{Core}{nameof(options.LivenessPath)}", input, readiness: false);
        var window = TimeSpan.FromSeconds((long)probe.PeriodSeconds * probe.FailureThreshold);
        if (window < options.DrainTimeout + options.ShutdownMargin)
        {
            findings.Add(new PodFinding(
                $"{field}.periodSeconds ({probe.PeriodSeconds}) × failureThreshold ({probe.FailureThreshold}) = {Seconds(window)} is shorter than {Core}{nameof(options.DrainTimeout)} " +
                $"({options.DrainTimeout}) + {Core}{nameof(options.ShutdownMargin)} ({options.ShutdownMargin}): the server refuses probes once the drain starts, so a drain no " +
                "deletion started (a preStop call with no SIGTERM after it) is cut by a restart. Raise the probe's failureThreshold or shorten the drain.",
                LosesRequests: false));
        }
    }

    private static void CheckStartup(List<PodFinding> findings, PodContainer container, string at, PodCheckInput input)
    {
        var options = input.Options;
        if (container.StartupProbe is not { } probe)
        {
            return;
        }

        // Liveness (up once the server listens) or readiness (up once preload is done) both say the start is over.
        var path = probe.Handler.HttpGet?.Path;
        var expected = path is not null && SamePath(path, options.ReadinessPath) ? options.ReadinessPath : options.LivenessPath;
        CheckProbeTarget(findings, container, $"{at}.startupProbe", probe, expected, $"{Core}{nameof(options.LivenessPath)}", input, readiness: false);
    }

    private static void CheckProbeTarget(
        List<PodFinding> findings, PodContainer container, string field, PodProbe probe, string expectedPath, string expectedOption, PodCheckInput input, bool readiness)
    {
        var options = input.Options;
        var handler = probe.Handler;
        if (handler.HttpGet is not { } get)
        {
            if (readiness && handler.TcpSocket)
            {
                findings.Add(new PodFinding(
                    $"{field}.tcpSocket succeeds as long as the port is open, so Kubernetes sends traffic before preload ends and to an instance that is leaving. " +
                    $"Use httpGet path {options.ReadinessPath} ({expectedOption}).",
                    LosesRequests: true));
            }

            return;
        }

        var path = PathOnly(get.Path);
        if (SamePath(path, options.PreStopPath))
        {
            findings.Add(new PodFinding(
                $"{field}.httpGet.path ({get.Path}) is the preStop endpoint ({Core}{nameof(options.PreStopPath)}): every probe would make the instance leave. Use {expectedPath} ({expectedOption}).",
                LosesRequests: true));
        }
        else if (!SamePath(path, expectedPath))
        {
            var other = readiness ? (options.LivenessPath, $"{Core}{nameof(options.LivenessPath)}") : (options.ReadinessPath, $"{Core}{nameof(options.ReadinessPath)}");
            if (SamePath(path, other.Item1))
            {
                findings.Add(new PodFinding(
                    readiness
                        ? $"{field}.httpGet.path ({get.Path}) is the liveness endpoint ({other.Item2}), which stays up while the instance preloads and leaves: Kubernetes would " +
                          $"send it traffic it cannot serve. Use {expectedPath} ({expectedOption})."
                        : $"{field}.httpGet.path ({get.Path}) is the readiness endpoint ({other.Item2}), which fails while the instance preloads and leaves: the kubelet would " +
                          $"restart it mid-preload or mid-drain. Use {expectedPath} ({expectedOption}).",
                    LosesRequests: true));
            }
            else if (input.IsMapped(path))
            {
                findings.Add(new PodFinding(
                    $"{field}.httpGet.path ({get.Path}) is an endpoint of the application, not the lifecycle's {expectedPath} ({expectedOption}): make sure it " +
                    (readiness ? "includes the GracefulLifecycle health check, or it will not fail while preloading and leaving." : "stays up while the instance preloads and drains."),
                    LosesRequests: false));
            }
            else
            {
                findings.Add(new PodFinding(
                    $"{field}.httpGet.path ({get.Path}) is not served (the lifecycle's is {expectedPath}, {expectedOption}): every probe would get 404, " +
                    (readiness ? "and the pod would never be ready." : "and the kubelet would restart the container.") + $" Set the probe's path to {expectedPath}, or {expectedOption} to {path}.",
                    LosesRequests: true));
            }
        }

        CheckPort(findings, container, $"{field}.httpGet.port", get.Port, input, requiredPort: null, requiredOption: null);
    }

    private static void CheckPort(List<PodFinding> findings, PodContainer container, string field, string port, PodCheckInput input, int? requiredPort, string? requiredOption)
    {
        if (container.ResolvePort(port) is not { } number)
        {
            findings.Add(new PodFinding(
                $"{field} ({port}) names no port of container '{container.Name}' (ports: {string.Join(", ", container.Ports.Select(p => $"{p.Name ?? "-"}={p.Port}"))}): " +
                "the kubelet cannot call it. Declare the port or use its number.",
                LosesRequests: true));
            return;
        }

        if (requiredPort is { } required && number != required)
        {
            findings.Add(new PodFinding(
                $"{field} ({port} = {number}) is not {requiredOption} ({required}), the only port the endpoint answers on: the call would get 404. Use port {required}.",
                LosesRequests: true));
        }
        else if (input.ListeningPorts.Count > 0 && !input.ListeningPorts.Contains(number))
        {
            findings.Add(new PodFinding(
                $"{field} ({port} = {number}) is not a port the server listens on ({Ports(input.ListeningPorts)}, from ASPNETCORE_URLS or Kestrel's endpoints): the kubelet's " +
                "calls would be refused. Use one of those ports.",
                LosesRequests: true));
        }
    }

    /// <summary>The path of a probe's URL, without its query; routing ignores a trailing slash and letter case.</summary>
    internal static string PathOnly(string path)
    {
        var query = path.IndexOfAny(['?', '#']);
        var bare = query < 0 ? path : path[..query];
        return bare.Length > 1 ? bare.TrimEnd('/') : bare;
    }

    private static bool SamePath(string a, string b) => string.Equals(PathOnly(a), PathOnly(b), StringComparison.OrdinalIgnoreCase);

    private static string Budget(ShutdownTimings t)
    {
        var parts = new List<string>();
        if (t.PreStopSleep > TimeSpan.Zero)
        {
            parts.Add($"{Core}PreStop:Sleep {t.PreStopSleep}");
        }

        if (t.DeregistrationTimeout > TimeSpan.Zero)
        {
            parts.Add($"{Core}Registration:DeregistrationTimeout {t.DeregistrationTimeout}");
        }

        parts.Add($"delay {(t.PreStopSleep > TimeSpan.Zero ? t.DelayAfterPreStopSleep : t.ShutdownDelay)}");
        parts.Add($"{Core}DrainTimeout {t.DrainTimeout}");
        parts.Add($"{Core}ShutdownMargin {t.ShutdownMargin}");
        return string.Join(" + ", parts);
    }

    private static string Ports(IReadOnlySet<int> ports) => ports.Count == 0 ? "unknown" : string.Join(", ", ports.Order());

    private static string Seconds(TimeSpan value) => string.Create(CultureInfo.InvariantCulture, $"{value.TotalSeconds:0.###} s");

    private static long CeilingSeconds(TimeSpan value) => (long)Math.Ceiling(value.TotalSeconds);

    private static string Duration(TimeSpan value) => value.ToString("c", CultureInfo.InvariantCulture);
}
