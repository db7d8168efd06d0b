namespace GracefulLifecycle.Kubernetes;

/// <summary>
/// Where the pod is read from, bound from the <c>GracefulLifecycle:Kubernetes</c> configuration section. In a pod
/// nothing needs setting: the API server, the namespace and the token come from the service account, the pod name from
/// <c>POD_NAME</c> or <c>HOSTNAME</c>. Each key overrides what is found.
/// </summary>
public sealed class KubernetesOptions
{
    /// <summary>The configuration section the options bind from.</summary>
    public const string SectionName = "GracefulLifecycle:Kubernetes";

    internal const string ServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount";
    internal const string DefaultTokenPath = ServiceAccountDirectory + "/token";
    internal static readonly TimeSpan DefaultRequestTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets the API server's URL. Plain <c>http://</c> is accepted only here, set explicitly (a test's fake
    /// API server, <c>kubectl proxy</c>); the API server a pod finds is always reached over TLS.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: <c>https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT</c>,
    /// trusting the service account's <c>ca.crt</c>.</value>
    public string? ApiServer { get; set; }

    /// <summary>Gets or sets the pod's namespace.</summary>
    /// <value>The default value is <see langword="null"/>: the service account's <c>namespace</c> file.</value>
    public string? Namespace { get; set; }

    /// <summary>Gets or sets the pod's name.</summary>
    /// <value>The default value is <see langword="null"/>: the <c>POD_NAME</c> environment variable (set it from the
    /// downward API, <c>fieldRef: metadata.name</c>), else <c>HOSTNAME</c>, which is the pod name unless the spec sets
    /// <c>hostname</c>.</value>
    public string? PodName { get; set; }

    /// <summary>
    /// Gets or sets the file holding the bearer token. It is read again for each call: a projected service account
    /// token is rotated by the kubelet while the pod runs.
    /// </summary>
    /// <value>The default value is <c>/var/run/secrets/kubernetes.io/serviceaccount/token</c>.</value>
    public string TokenPath { get; set; } = DefaultTokenPath;

    /// <summary>Gets or sets the name of this application's container in the pod, when the pod has several.</summary>
    /// <value>The default value is <see langword="null"/>: the only container, else the one that declares a port the
    /// server listens on.</value>
    public string? ContainerName { get; set; }

    /// <summary>Gets or sets what startup does when the pod spec contradicts the options in a way that loses requests.</summary>
    /// <value>The default value is <see cref="KubernetesMismatchAction.Fail"/>.</value>
    public KubernetesMismatchAction OnMismatch { get; set; } = KubernetesMismatchAction.Fail;

    /// <summary>Gets or sets how long one read of the pod may take before the API counts as unreachable.</summary>
    /// <value>The default value is 5 seconds.</value>
    public TimeSpan RequestTimeout { get; set; } = DefaultRequestTimeout;
}
