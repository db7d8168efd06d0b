using YamlDotNet.RepresentationModel;

namespace GracefulLifecycle.Tests.Kubernetes;

/// <summary>The manifests under deploy/kubernetes, parsed and checked against the options they configure.</summary>
public sealed class ManifestTests
{
    [Theory]
    [InlineData("httpget-prestop.yaml")]
    [InlineData("sleep-prestop.yaml")]
    [InlineData("grpc-sleep-prestop.yaml")]
    public void Manifest_AgreesWithTheOptionsItSets(string file)
    {
        var problems = ManifestChecker.Check(ManifestChecker.Load(file));

        Assert.Empty(problems);
    }

    [Fact]
    public void GrpcManifest_HasAGrpcReadinessProbeOnAnHttp2Port()
    {
        var container = ManifestChecker.Container(ManifestChecker.Load("grpc-sleep-prestop.yaml"));

        var grpc = (YamlMappingNode)((YamlMappingNode)container["readinessProbe"])["grpc"];
        Assert.Equal("8080", ((YamlScalarNode)grpc["port"]).Value);
    }

    [Theory]
    [InlineData("httpget-prestop.yaml", "terminationGracePeriodSeconds", "20", "is not terminationGracePeriodSeconds (20)")]
    [InlineData("httpget-prestop.yaml", "readiness path", "/ready", "readinessProbe: path /ready is not the endpoint's path /ifready")]
    [InlineData("httpget-prestop.yaml", "liveness port", "9999", "livenessProbe: port 9999 is not a container port")]
    [InlineData("httpget-prestop.yaml", "liveness port", "http", "livenessProbe: port 8080 is exposed by the Service")]
    [InlineData("httpget-prestop.yaml", "liveness period", "5", "livenessProbe: periodSeconds 5 and failureThreshold 3 are not GracefulLifecycle__LivenessProbe__Period (00:00:10)")]
    [InlineData("httpget-prestop.yaml", "liveness period", "5", "livenessProbe: periodSeconds x failureThreshold (15 s) is shorter than the drain and the margin (00:00:17)")]
    [InlineData("httpget-prestop.yaml", "preStop port", "http", "preStop: port 8080 is not GracefulLifecycle__PreStop__ManagementPort (8081)")]
    [InlineData("httpget-prestop.yaml", "drain", "00:00:20", "the options fail validation")]
    [InlineData("sleep-prestop.yaml", "sleep seconds", "8", "preStop sleeps 8 s but GracefulLifecycle__PreStop__Sleep is 00:00:05")]
    [InlineData("sleep-prestop.yaml", "readiness period", "10", "is not shorter than the shutdown delay")]
    [InlineData("grpc-sleep-prestop.yaml", "grpc port", "8081", "readinessProbe: port 8081 speaks Http1, the probe needs HTTP/2 (h2c)")]
    [InlineData("grpc-sleep-prestop.yaml", "grpc port", "grpc", "a grpc probe takes a port number, not a name")]
    [InlineData("sleep-prestop.yaml", "maxUnavailable", "1", "strategy: maxUnavailable 1 lets a rollout stop old pods before new ones are available")]
    [InlineData("sleep-prestop.yaml", "maxSurge", "0", "strategy: maxSurge 0 with maxUnavailable 0 is refused")]
    [InlineData("sleep-prestop.yaml", "minReadySeconds", "2", "minReadySeconds (2) is shorter than the shutdown delay (00:00:10)")]
    [InlineData("httpget-prestop.yaml", "pdb maxUnavailable", "0", "PodDisruptionBudget: allows no eviction")]
    [InlineData("httpget-prestop.yaml", "pdb selector", "other", "PodDisruptionBudget: its selector is not the Deployment's")]
    [InlineData("grpc-sleep-prestop.yaml", "role verb", "list", "Role: no rule allows get on pods")]
    [InlineData("grpc-sleep-prestop.yaml", "role extra verb", "watch", "Role: grants more than get on pods")]
    [InlineData("grpc-sleep-prestop.yaml", "binding subject", "default", "RoleBinding: does not bind ServiceAccount pricing")]
    [InlineData("sleep-prestop.yaml", "serviceAccountName", "default", "no ServiceAccount default")]
    [InlineData("sleep-prestop.yaml", "POD_NAME field", "spec.nodeName", "no POD_NAME from the downward API")]
    public void Manifest_ThatDisagrees_IsReported(string file, string change, string value, string expected)
    {
        var yaml = ManifestChecker.Load(file);
        var container = ManifestChecker.Container(yaml);
        var podSpec = (YamlMappingNode)((YamlMappingNode)((YamlMappingNode)ManifestChecker.Deployment(yaml)["spec"])["template"])["spec"];
        YamlMappingNode At(YamlMappingNode node, params string[] path) => path.Aggregate(node, (n, key) => (YamlMappingNode)n[key]);

        switch (change)
        {
            case "terminationGracePeriodSeconds": podSpec.Children["terminationGracePeriodSeconds"] = new YamlScalarNode(value); break;
            case "readiness path": At(container, "readinessProbe", "httpGet").Children["path"] = new YamlScalarNode(value); break;
            case "readiness period": At(container, "readinessProbe").Children["periodSeconds"] = new YamlScalarNode(value); break;
            case "liveness period": At(container, "livenessProbe").Children["periodSeconds"] = new YamlScalarNode(value); break;
            case "liveness port": At(container, "livenessProbe", "httpGet").Children["port"] = new YamlScalarNode(value); break;
            case "preStop port": At(container, "lifecycle", "preStop", "httpGet").Children["port"] = new YamlScalarNode(value); break;
            case "sleep seconds": At(container, "lifecycle", "preStop", "sleep").Children["seconds"] = new YamlScalarNode(value); break;
            case "grpc port": At(container, "readinessProbe", "grpc").Children["port"] = new YamlScalarNode(value); break;
            case "maxUnavailable": At(ManifestChecker.Deployment(yaml), "spec", "strategy", "rollingUpdate").Children["maxUnavailable"] = new YamlScalarNode(value); break;
            case "maxSurge": At(ManifestChecker.Deployment(yaml), "spec", "strategy", "rollingUpdate").Children["maxSurge"] = new YamlScalarNode(value); break;
            case "minReadySeconds": At(ManifestChecker.Deployment(yaml), "spec").Children["minReadySeconds"] = new YamlScalarNode(value); break;
            case "pdb maxUnavailable": At(Document(yaml, "PodDisruptionBudget"), "spec").Children["maxUnavailable"] = new YamlScalarNode(value); break;
            case "pdb selector": At(Document(yaml, "PodDisruptionBudget"), "spec", "selector", "matchLabels").Children["app"] = new YamlScalarNode(value); break;
            case "role verb": ((YamlMappingNode)((YamlSequenceNode)Document(yaml, "Role")["rules"]).Children[0]).Children["verbs"] = new YamlSequenceNode(new YamlScalarNode(value)); break;
            case "role extra verb": ((YamlSequenceNode)((YamlMappingNode)((YamlSequenceNode)Document(yaml, "Role")["rules"]).Children[0])["verbs"]).Add(new YamlScalarNode(value)); break;
            case "binding subject": ((YamlMappingNode)((YamlSequenceNode)Document(yaml, "RoleBinding")["subjects"]).Children[0]).Children["name"] = new YamlScalarNode(value); break;
            case "serviceAccountName": podSpec.Children["serviceAccountName"] = new YamlScalarNode(value); break;
            case "POD_NAME field":
                var podName = ((YamlSequenceNode)container["env"]).Children.Cast<YamlMappingNode>().Single(e => ((YamlScalarNode)e["name"]).Value == "POD_NAME");
                At(podName, "valueFrom", "fieldRef").Children["fieldPath"] = new YamlScalarNode(value);
                break;
            case "drain":
                var env = ((YamlSequenceNode)container["env"]).Children.Cast<YamlMappingNode>()
                    .Single(e => ((YamlScalarNode)e["name"]).Value == "GracefulLifecycle__DrainTimeout");
                env.Children["value"] = new YamlScalarNode(value);
                break;
        }

        var problems = ManifestChecker.Check(yaml);

        Assert.Contains(problems, p => p.Contains(expected, StringComparison.Ordinal));
    }

    private static YamlMappingNode Document(YamlStream yaml, string kind) =>
        yaml.Documents.Select(d => (YamlMappingNode)d.RootNode).Single(d => ((YamlScalarNode)d["kind"]).Value == kind);
}
