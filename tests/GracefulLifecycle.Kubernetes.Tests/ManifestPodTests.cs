using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace GracefulLifecycle.Kubernetes.Tests;

/// <summary>
/// The manifests under deploy/kubernetes as the pods they create, held against the package's own startup check with
/// the options their environment sets: what the project deploys must start under <c>OnMismatch=Fail</c>.
/// </summary>
public sealed class ManifestPodTests
{
    [Theory]
    [InlineData("httpget-prestop.yaml")]
    [InlineData("sleep-prestop.yaml")]
    [InlineData("grpc-sleep-prestop.yaml")]
    public void ManifestPod_PassesTheStartupCheck(string file)
    {
        var (pod, environment) = PodOf(file);

        var findings = Check(pod, environment);

        Assert.Empty(findings.Select(f => f.Message));
    }

    [Fact]
    public void ManifestPod_WithAShorterGracePeriod_FailsTheStartupCheck()
    {
        var (pod, environment) = PodOf("sleep-prestop.yaml");
        pod["spec"]!["terminationGracePeriodSeconds"] = 20;

        var findings = Check(pod, environment);

        Assert.Contains(findings, f => f.LosesRequests && f.Message.StartsWith("spec.terminationGracePeriodSeconds (20) is shorter than the shutdown budget, 27 s", StringComparison.Ordinal));
    }

    private static IReadOnlyList<PodFinding> Check(JsonObject pod, Dictionary<string, string?> environment)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(environment).Build());
        services.AddGracefulLifecycle();
        using var provider = services.BuildServiceProvider();
        using var document = JsonDocument.Parse(pod.ToJsonString());
        var input = new PodCheckInput(
            provider.GetRequiredService<IOptions<GracefulLifecycleOptions>>().Value,
            provider.GetRequiredService<ShutdownTimings>(),
            ListeningPorts(environment),
            _ => false,
            ContainerName: null);
        return PodSpecCheck.Check(KubernetesPod.Parse(document.RootElement), input);
    }

    /// <summary>The Deployment's pod template as a Pod, and its container's environment as configuration keys.</summary>
    private static (JsonObject Pod, Dictionary<string, string?> Environment) PodOf(string file)
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(Path.Combine(AppContext.BaseDirectory, "kubernetes", file)))
        {
            yaml.Load(reader);
        }

        var deployment = yaml.Documents.Select(d => (YamlMappingNode)d.RootNode).Single(d => ((YamlScalarNode)d["kind"]).Value == "Deployment");
        var template = (YamlMappingNode)((YamlMappingNode)deployment["spec"])["template"];
        var pod = new JsonObject
        {
            ["kind"] = "Pod",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject { ["name"] = "catalog-7d4b9c6f5-x2x9q", ["namespace"] = "shop" },
            ["spec"] = Json(template["spec"]),
        };

        var environment = new Dictionary<string, string?>();
        foreach (var variable in ((YamlSequenceNode)((YamlMappingNode)((YamlSequenceNode)((YamlMappingNode)template["spec"])["containers"]).Children[0])["env"]).Children.Cast<YamlMappingNode>())
        {
            var name = ((YamlScalarNode)variable["name"]).Value!.Replace("__", ":", StringComparison.Ordinal);
            environment[name] = variable.Children.TryGetValue("value", out var value) ? ((YamlScalarNode)value).Value : null;
        }

        // httpHeaders cannot reference a Secret: the manifest's placeholder is what the Secret holds once deployed.
        if (environment.ContainsKey("GracefulLifecycle:PreStop:Token"))
        {
            environment["GracefulLifecycle:PreStop:Token"] = "<prestop-token>";
        }

        return (pod, environment);
    }

    /// <summary>YAML as the API server would take it: a plain number or boolean is one, anything quoted a string.</summary>
    private static JsonNode? Json(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(kv => KeyValuePair.Create(((YamlScalarNode)kv.Key).Value!, Json(kv.Value)))),
        YamlSequenceNode list => new JsonArray([.. list.Children.Select(Json)]),
        YamlScalarNode { Style: ScalarStyle.Plain, Value: var text } when long.TryParse(text, out var number) => JsonValue.Create(number),
        YamlScalarNode { Style: ScalarStyle.Plain, Value: "true" or "false" } scalar => JsonValue.Create(scalar.Value == "true"),
        YamlScalarNode scalar => JsonValue.Create(scalar.Value),
        _ => null,
    };

    /// <summary>The ports the server would listen on, from ASPNETCORE_HTTP_PORTS or Kestrel's endpoints.</summary>
    private static HashSet<int> ListeningPorts(Dictionary<string, string?> environment)
    {
        var ports = new HashSet<int>();
        if (environment.TryGetValue("ASPNETCORE_HTTP_PORTS", out var httpPorts) && httpPorts is not null)
        {
            ports.UnionWith(httpPorts.Split(';').Select(p => int.Parse(p, null)));
        }

        foreach (var (key, url) in environment.Where(e => e.Key.StartsWith("Kestrel:Endpoints:", StringComparison.Ordinal) && e.Key.EndsWith(":Url", StringComparison.Ordinal)))
        {
            ports.Add(BindingAddress.Parse(url!).Port);
        }

        return ports;
    }
}
