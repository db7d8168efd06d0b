using System.Globalization;
using System.Text.Json;

namespace GracefulLifecycle.Kubernetes;

/// <summary>
/// The fields of a Pod the lifecycle reads, parsed from the JSON kube-apiserver serves for
/// <c>GET /api/v1/namespaces/{namespace}/pods/{name}</c> (field names from kubernetes
/// staging/src/k8s.io/api/core/v1/types.go: Pod, ObjectMeta, PodSpec, Container, Probe, ProbeHandler, LifecycleHandler).
/// The API server applies defaults before serving a pod (pkg/apis/core/v1/defaults.go), so a real pod carries every
/// probe timing; the Kubernetes defaults fill what a hand-written document leaves out.
/// </summary>
internal sealed record KubernetesPod(
    string Name,
    string Namespace,
    long? TerminationGracePeriodSeconds,
    DateTimeOffset? DeletionTimestamp,
    long? DeletionGracePeriodSeconds,
    IReadOnlyList<PodContainer> Containers)
{
    /// <summary>The grace period the kubelet gives when the spec sets none (SetDefaults_PodSpec: DefaultTerminationGracePeriodSeconds).</summary>
    public const long DefaultTerminationGracePeriodSeconds = 30;

    /// <summary>Gets whether the pod is being deleted: <c>metadata.deletionTimestamp</c> is set.</summary>
    public bool IsDeleted => DeletionTimestamp is not null;

    /// <summary>Gets the spec's grace period, or the Kubernetes default.</summary>
    public long GracePeriodSeconds => TerminationGracePeriodSeconds ?? DefaultTerminationGracePeriodSeconds;

    /// <exception cref="JsonException">The document is not a Pod.</exception>
    public static KubernetesPod Parse(JsonElement pod)
    {
        if (pod.ValueKind != JsonValueKind.Object || Text(pod, "kind") is { } kind && kind != "Pod")
        {
            throw new JsonException($"the answer is not a Pod (kind '{Text(pod, "kind")}')");
        }

        var metadata = Child(pod, "metadata") ?? throw new JsonException("the Pod has no metadata");
        var spec = Child(pod, "spec") ?? throw new JsonException("the Pod has no spec");
        var containers = new List<PodContainer>();
        if (Child(spec, "containers") is { ValueKind: JsonValueKind.Array } array)
        {
            foreach (var container in array.EnumerateArray())
            {
                containers.Add(PodContainer.Parse(container));
            }
        }

        return new KubernetesPod(
            Text(metadata, "name") ?? string.Empty,
            Text(metadata, "namespace") ?? string.Empty,
            Number(spec, "terminationGracePeriodSeconds"),
            Text(metadata, "deletionTimestamp") is { } deleted
                ? DateTimeOffset.Parse(deleted, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal)
                : null,
            Number(metadata, "deletionGracePeriodSeconds"),
            containers);
    }

    internal static JsonElement? Child(JsonElement parent, string name) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    internal static string? Text(JsonElement parent, string name) =>
        Child(parent, name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;

    internal static long? Number(JsonElement parent, string name) =>
        Child(parent, name) is { ValueKind: JsonValueKind.Number } value && value.TryGetInt64(out var number) ? number : null;
}

/// <summary>One container of the pod (core/v1 Container).</summary>
internal sealed record PodContainer(
    string Name,
    IReadOnlyList<(string? Name, int Port)> Ports,
    PodProbe? ReadinessProbe,
    PodProbe? LivenessProbe,
    PodProbe? StartupProbe,
    PodHandler? PreStop)
{
    public static PodContainer Parse(JsonElement container)
    {
        var ports = new List<(string?, int)>();
        if (KubernetesPod.Child(container, "ports") is { ValueKind: JsonValueKind.Array } array)
        {
            foreach (var port in array.EnumerateArray())
            {
                if (KubernetesPod.Number(port, "containerPort") is { } number)
                {
                    ports.Add((KubernetesPod.Text(port, "name"), (int)number));
                }
            }
        }

        var lifecycle = KubernetesPod.Child(container, "lifecycle");
        return new PodContainer(
            KubernetesPod.Text(container, "name") ?? string.Empty,
            ports,
            PodProbe.Parse(KubernetesPod.Child(container, "readinessProbe")),
            PodProbe.Parse(KubernetesPod.Child(container, "livenessProbe")),
            PodProbe.Parse(KubernetesPod.Child(container, "startupProbe")),
            lifecycle is { } l && KubernetesPod.Child(l, "preStop") is { } preStop ? PodHandler.Parse(preStop) : null);
    }

    /// <summary>
    /// Resolves a probe's or hook's port: a number, or the name of one of the container's ports (an IntOrString in
    /// HTTPGetAction.Port); null when the name is not declared.
    /// </summary>
    public int? ResolvePort(string port)
    {
        if (int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return number;
        }

        foreach (var (name, containerPort) in Ports)
        {
            if (string.Equals(name, port, StringComparison.Ordinal))
            {
                return containerPort;
            }
        }

        return null;
    }
}

/// <summary>A probe (core/v1 Probe): its handler and timings, defaulted as SetDefaults_Probe does.</summary>
internal sealed record PodProbe(PodHandler Handler, int PeriodSeconds, int FailureThreshold, int TimeoutSeconds)
{
    /// <summary>SetDefaults_Probe: PeriodSeconds 10, FailureThreshold 3, TimeoutSeconds 1.</summary>
    public const int DefaultPeriodSeconds = 10;

    public const int DefaultFailureThreshold = 3;

    public const int DefaultTimeoutSeconds = 1;

    public static PodProbe? Parse(JsonElement? probe) => probe is not { ValueKind: JsonValueKind.Object } p ? null : new PodProbe(
        PodHandler.Parse(p),
        (int)(KubernetesPod.Number(p, "periodSeconds") ?? DefaultPeriodSeconds),
        (int)(KubernetesPod.Number(p, "failureThreshold") ?? DefaultFailureThreshold),
        (int)(KubernetesPod.Number(p, "timeoutSeconds") ?? DefaultTimeoutSeconds));
}

/// <summary>
/// What a probe or a preStop hook does (core/v1 ProbeHandler and LifecycleHandler): one of exec, httpGet, tcpSocket,
/// grpc (probes) or sleep (hooks, KEP-3960).
/// </summary>
internal sealed record PodHandler(
    PodHttpGet? HttpGet,
    IReadOnlyList<string>? ExecCommand,
    long? SleepSeconds,
    bool TcpSocket,
    bool Grpc)
{
    public static PodHandler Parse(JsonElement handler)
    {
        PodHttpGet? httpGet = null;
        if (KubernetesPod.Child(handler, "httpGet") is { } get)
        {
            var headers = new List<(string, string)>();
            if (KubernetesPod.Child(get, "httpHeaders") is { ValueKind: JsonValueKind.Array } array)
            {
                foreach (var header in array.EnumerateArray())
                {
                    headers.Add((KubernetesPod.Text(header, "name") ?? string.Empty, KubernetesPod.Text(header, "value") ?? string.Empty));
                }
            }

            var port = KubernetesPod.Child(get, "port") is { } p
                ? p.ValueKind == JsonValueKind.Number ? p.GetRawText() : p.GetString() ?? string.Empty
                : string.Empty;

            // SetDefaults_HTTPGetAction: an empty path is "/", an empty scheme HTTP.
            httpGet = new PodHttpGet(
                KubernetesPod.Text(get, "path") is { Length: > 0 } path ? path : "/",
                port,
                KubernetesPod.Text(get, "scheme") is { Length: > 0 } scheme ? scheme : "HTTP",
                headers);
        }

        List<string>? command = null;
        if (KubernetesPod.Child(handler, "exec") is { } exec && KubernetesPod.Child(exec, "command") is { ValueKind: JsonValueKind.Array } words)
        {
            command = [.. words.EnumerateArray().Select(w => w.ValueKind == JsonValueKind.String ? w.GetString() ?? string.Empty : w.GetRawText())];
        }

        var sleep = KubernetesPod.Child(handler, "sleep") is { } s ? KubernetesPod.Number(s, "seconds") ?? 0 : (long?)null;
        return new PodHandler(
            httpGet, command, sleep, KubernetesPod.Child(handler, "tcpSocket") is not null, KubernetesPod.Child(handler, "grpc") is not null);
    }
}

/// <summary>An HTTP GET probe or hook (core/v1 HTTPGetAction); the port as written, a number or a port name.</summary>
internal sealed record PodHttpGet(string Path, string Port, string Scheme, IReadOnlyList<(string Name, string Value)> Headers);
