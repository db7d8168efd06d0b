using System.Globalization;

namespace GracefulLifecycle.Kubernetes;

/// <summary>
/// Where the pod is: the API server, the namespace, the name and the token file, each from the options when set,
/// else from what the pod finds about itself. <see cref="Missing"/> says what could not be found.
/// </summary>
internal sealed record PodLocation(Uri? ApiServer, string? Namespace, string? PodName, string TokenPath, string? CaPath, string? Missing)
{
    public static PodLocation Find(KubernetesOptions options, KubernetesEnvironment environment)
    {
        Uri? api = null;
        string? caPath = null;
        if (options.ApiServer is { } explicitServer)
        {
            api = new Uri(explicitServer.TrimEnd('/') + "/", UriKind.Absolute);
        }
        else if (environment.Variable("KUBERNETES_SERVICE_HOST") is { } host)
        {
            var port = environment.Variable("KUBERNETES_SERVICE_PORT") ?? "443";
            var bracketed = host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;
            api = new Uri(string.Create(CultureInfo.InvariantCulture, $"https://{bracketed}:{port}/"), UriKind.Absolute);
        }

        if (api is { Scheme: "https" })
        {
            var ca = Path.Combine(environment.ServiceAccountDirectory, "ca.crt");
            caPath = File.Exists(ca) ? ca : null;
        }

        var ns = options.Namespace ?? environment.ReadServiceAccountFile("namespace");
        var name = options.PodName ?? environment.Variable("POD_NAME") ?? environment.Variable("HOSTNAME");
        var missing =
            api is null ? "the API server (no KUBERNETES_SERVICE_HOST and no " + KubernetesOptions.SectionName + ":ApiServer)"
            : ns is null ? $"the namespace (no {Path.Combine(environment.ServiceAccountDirectory, "namespace")} and no {KubernetesOptions.SectionName}:Namespace)"
            : name is null ? $"the pod name (no POD_NAME, no HOSTNAME and no {KubernetesOptions.SectionName}:PodName)"
            : null;
        return new PodLocation(api, ns, name, options.TokenPath, caPath, missing);
    }

    /// <summary>Gets the pod's URL: <c>/api/v1/namespaces/{namespace}/pods/{name}</c>.</summary>
    public Uri PodUrl => new(ApiServer!, $"api/v1/namespaces/{Uri.EscapeDataString(Namespace!)}/pods/{Uri.EscapeDataString(PodName!)}");

    /// <summary>Gets the pod as <c>namespace/name</c>, for log lines.</summary>
    public string Pod => $"{Namespace}/{PodName}";
}
