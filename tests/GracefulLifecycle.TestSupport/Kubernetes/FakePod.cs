using System.Globalization;
using System.Text.Json.Nodes;

namespace GracefulLifecycle.TestSupport.Kubernetes;

/// <summary>
/// A pod as <see cref="FakeKubernetesApiServer"/> serves it: the fields the lifecycle reads, set by a test, written as
/// kube-apiserver writes a core/v1 Pod (field names and nesting from kubernetes
/// staging/src/k8s.io/api/core/v1/types.go), with the defaults the API server fills in before it stores a pod
/// (pkg/apis/core/v1/defaults.go: probe timings, httpGet scheme, restart policy), so a test reads like a manifest and
/// the JSON like <c>kubectl get pod -o json</c>.
/// </summary>
public sealed class FakePod
{
    /// <summary>Gets or sets <c>metadata.name</c>.</summary>
    public string Name { get; set; } = "app-7d4b9c6f5-x2x9q";

    /// <summary>Gets or sets <c>metadata.namespace</c>.</summary>
    public string Namespace { get; set; } = "shop";

    /// <summary>Gets or sets <c>spec.terminationGracePeriodSeconds</c> (the API server defaults it to 30).</summary>
    public long TerminationGracePeriodSeconds { get; set; } = 30;

    /// <summary>Gets or sets <c>metadata.deletionTimestamp</c>: set by a deletion, with <see cref="DeletionGracePeriodSeconds"/>.</summary>
    public DateTimeOffset? DeletionTimestamp { get; set; }

    /// <summary>Gets or sets <c>metadata.deletionGracePeriodSeconds</c>: the grace this deletion gives (<c>--grace-period</c>, an eviction's).</summary>
    public long? DeletionGracePeriodSeconds { get; set; }

    /// <summary>Gets <c>spec.containers</c>; one named <c>app</c> by default.</summary>
    public List<FakeContainer> Containers { get; } = [new FakeContainer()];

    /// <summary>Gets the first container.</summary>
    public FakeContainer Container => Containers[0];

    /// <summary>
    /// A pod whose spec agrees with the lifecycle's default options: one container <c>app</c> with port <c>http</c>
    /// (<paramref name="port"/>), readiness on <c>/ifready</c> and liveness on <c>/health</c> through that port name,
    /// readiness every 1 s with threshold 3, liveness every 10 s, no preStop hook, a 30 s grace period.
    /// </summary>
    public static FakePod Matching(int port)
    {
        var pod = new FakePod();
        pod.Container.Ports.Add(new FakeContainerPort("http", port));
        pod.Container.ReadinessProbe = new FakeProbe(FakeHandler.HttpGet("/ifready", "http")) { PeriodSeconds = 1, FailureThreshold = 3 };
        pod.Container.LivenessProbe = new FakeProbe(FakeHandler.HttpGet("/health", "http")) { PeriodSeconds = 10, FailureThreshold = 3 };
        return pod;
    }

    /// <summary>Writes the pod as kube-apiserver serves it for <c>GET /api/v1/namespaces/{namespace}/pods/{name}</c>.</summary>
    public JsonObject ToJson()
    {
        var metadata = new JsonObject
        {
            ["name"] = Name,
            ["generateName"] = Name[..(Name.LastIndexOf('-') + 1)],
            ["namespace"] = Namespace,
            ["uid"] = "6f1b5f8e-3c1d-4a57-9d5e-0b7c2b3f4a10",
            ["resourceVersion"] = "48213",
            ["creationTimestamp"] = "2026-12-07T09:00:00Z",
            ["labels"] = new JsonObject { ["app"] = "app", ["pod-template-hash"] = "7d4b9c6f5" },
        };

        // metav1.Time marshals as RFC 3339 in UTC, to the second (apimachinery/pkg/apis/meta/v1/time.go).
        if (DeletionTimestamp is { } deleted)
        {
            metadata["deletionTimestamp"] = deleted.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        }

        if (DeletionGracePeriodSeconds is { } grace)
        {
            metadata["deletionGracePeriodSeconds"] = grace;
        }

        var containers = new JsonArray();
        foreach (var container in Containers)
        {
            containers.Add(container.ToJson());
        }

        return new JsonObject
        {
            ["kind"] = "Pod",
            ["apiVersion"] = "v1",
            ["metadata"] = metadata,
            ["spec"] = new JsonObject
            {
                ["containers"] = containers,
                ["restartPolicy"] = "Always",
                ["terminationGracePeriodSeconds"] = TerminationGracePeriodSeconds,
                ["dnsPolicy"] = "ClusterFirst",
                ["serviceAccountName"] = "app",
                ["serviceAccount"] = "app",
                ["nodeName"] = "node-1",
                ["securityContext"] = new JsonObject(),
                ["schedulerName"] = "default-scheduler",
                ["enableServiceLinks"] = true,
            },
            ["status"] = new JsonObject
            {
                ["phase"] = "Running",
                ["podIP"] = "10.244.1.23",
                ["startTime"] = "2026-12-07T09:00:00Z",
            },
        };
    }
}

/// <summary>A container of a <see cref="FakePod"/> (core/v1 Container).</summary>
public sealed class FakeContainer
{
    /// <summary>Gets or sets <c>name</c>.</summary>
    public string Name { get; set; } = "app";

    /// <summary>Gets <c>ports</c>.</summary>
    public List<FakeContainerPort> Ports { get; } = [];

    /// <summary>Gets or sets <c>readinessProbe</c>.</summary>
    public FakeProbe? ReadinessProbe { get; set; }

    /// <summary>Gets or sets <c>livenessProbe</c>.</summary>
    public FakeProbe? LivenessProbe { get; set; }

    /// <summary>Gets or sets <c>startupProbe</c>.</summary>
    public FakeProbe? StartupProbe { get; set; }

    /// <summary>Gets or sets <c>lifecycle.preStop</c>.</summary>
    public FakeHandler? PreStop { get; set; }

    internal JsonObject ToJson()
    {
        var ports = new JsonArray();
        foreach (var port in Ports)
        {
            var json = new JsonObject();
            if (port.Name is { } name)
            {
                json["name"] = name;
            }

            json["containerPort"] = port.ContainerPort;
            json["protocol"] = "TCP";
            ports.Add(json);
        }

        var container = new JsonObject
        {
            ["name"] = Name,
            ["image"] = "registry.example/app:1.4.2",
            ["ports"] = ports,
            ["resources"] = new JsonObject(),
        };
        if (LivenessProbe is { } liveness)
        {
            container["livenessProbe"] = liveness.ToJson();
        }

        if (ReadinessProbe is { } readiness)
        {
            container["readinessProbe"] = readiness.ToJson();
        }

        if (StartupProbe is { } startup)
        {
            container["startupProbe"] = startup.ToJson();
        }

        if (PreStop is { } preStop)
        {
            container["lifecycle"] = new JsonObject { ["preStop"] = preStop.ToJson() };
        }

        container["terminationMessagePath"] = "/dev/termination-log";
        container["terminationMessagePolicy"] = "File";
        container["imagePullPolicy"] = "IfNotPresent";
        return container;
    }
}

/// <summary>A container port (core/v1 ContainerPort).</summary>
/// <param name="Name">The port's name, which probes and hooks may use instead of the number.</param>
/// <param name="ContainerPort">The port number.</param>
public sealed record FakeContainerPort(string? Name, int ContainerPort);

/// <summary>A probe (core/v1 Probe), with the API server's defaults (SetDefaults_Probe).</summary>
/// <param name="handler">What the probe does.</param>
public sealed class FakeProbe(FakeHandler handler)
{
    /// <summary>Gets or sets the handler.</summary>
    public FakeHandler Handler { get; set; } = handler;

    /// <summary>Gets or sets <c>periodSeconds</c> (default 10).</summary>
    public int PeriodSeconds { get; set; } = 10;

    /// <summary>Gets or sets <c>failureThreshold</c> (default 3).</summary>
    public int FailureThreshold { get; set; } = 3;

    /// <summary>Gets or sets <c>timeoutSeconds</c> (default 1).</summary>
    public int TimeoutSeconds { get; set; } = 1;

    internal JsonObject ToJson()
    {
        var json = Handler.ToJson();
        json["timeoutSeconds"] = TimeoutSeconds;
        json["periodSeconds"] = PeriodSeconds;
        json["successThreshold"] = 1;
        json["failureThreshold"] = FailureThreshold;
        return json;
    }
}

/// <summary>
/// A probe's or hook's action (core/v1 ProbeHandler, LifecycleHandler): <c>httpGet</c>, <c>exec</c>, <c>sleep</c>,
/// <c>tcpSocket</c> or <c>grpc</c>. A port is an IntOrString: a number or the name of a container port.
/// </summary>
public sealed class FakeHandler
{
    private readonly Func<JsonObject> _write;

    private FakeHandler(Func<JsonObject> write) => _write = write;

    /// <summary>An <c>httpGet</c> action; <paramref name="port"/> is an <see cref="int"/> or a port name.</summary>
    public static FakeHandler HttpGet(string path, object port, params (string Name, string Value)[] headers) => new(() =>
    {
        var get = new JsonObject { ["path"] = path, ["port"] = PortNode(port), ["scheme"] = "HTTP" };
        if (headers.Length > 0)
        {
            var array = new JsonArray();
            foreach (var (name, value) in headers)
            {
                array.Add(new JsonObject { ["name"] = name, ["value"] = value });
            }

            get["httpHeaders"] = array;
        }

        return new JsonObject { ["httpGet"] = get };
    });

    /// <summary>An <c>exec</c> action.</summary>
    public static FakeHandler Exec(params string[] command) => new(() =>
    {
        var words = new JsonArray();
        foreach (var word in command)
        {
            words.Add(word);
        }

        return new JsonObject { ["exec"] = new JsonObject { ["command"] = words } };
    });

    /// <summary>A preStop <c>sleep</c> action (KEP-3960).</summary>
    public static FakeHandler Sleep(long seconds) => new(() => new JsonObject { ["sleep"] = new JsonObject { ["seconds"] = seconds } });

    /// <summary>A <c>tcpSocket</c> action.</summary>
    public static FakeHandler TcpSocket(object port) => new(() => new JsonObject { ["tcpSocket"] = new JsonObject { ["port"] = PortNode(port) } });

    /// <summary>A <c>grpc</c> probe (its port is a number only).</summary>
    public static FakeHandler Grpc(int port) => new(() => new JsonObject { ["grpc"] = new JsonObject { ["port"] = port, ["service"] = string.Empty } });

    internal JsonObject ToJson() => _write();

    private static JsonValue PortNode(object port) => port switch
    {
        int number => JsonValue.Create(number),
        string name => JsonValue.Create(name),
        _ => throw new ArgumentException("A port is an int or a port name.", nameof(port)),
    };
}
