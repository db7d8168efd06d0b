namespace GracefulLifecycle.Kubernetes;

/// <summary>
/// What a pod finds about itself without the API: environment variables (<c>KUBERNETES_SERVICE_HOST</c>,
/// <c>POD_NAME</c>, <c>HOSTNAME</c>) and the service account directory the kubelet mounts. Tests swap it.
/// </summary>
internal sealed class KubernetesEnvironment(Func<string, string?> variable, string serviceAccountDirectory)
{
    public static KubernetesEnvironment Process { get; } =
        new(Environment.GetEnvironmentVariable, KubernetesOptions.ServiceAccountDirectory);

    public string ServiceAccountDirectory { get; } = serviceAccountDirectory;

    public string? Variable(string name) => variable(name) is { Length: > 0 } value ? value : null;

    /// <summary>Reads a file of the service account directory, trimmed; null when it is absent or unreadable.</summary>
    public string? ReadServiceAccountFile(string name) => ReadFile(Path.Combine(ServiceAccountDirectory, name));

    public static string? ReadFile(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
