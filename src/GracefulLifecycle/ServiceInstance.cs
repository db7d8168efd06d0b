using System.Globalization;
using System.Net;

namespace GracefulLifecycle;

/// <summary>
/// What a registry registers: where this instance can be reached and under which name. The lifecycle computes it
/// once, when registration starts (the server listens by then, so <c>--urls http://0.0.0.0:0</c> works too), and
/// hands the same value to every registry's <see cref="IServiceRegistry.RegisterAsync"/>. A registry applies its own
/// overrides (a port, an address or a name set in its options) on top of it.
/// </summary>
public sealed class ServiceInstance
{
    private readonly Dictionary<string, int> _ports;

    /// <summary>Initializes a new instance of the <see cref="ServiceInstance"/> class.</summary>
    /// <param name="applicationName">The host's application name; empty when the host has none.</param>
    /// <param name="hostName">The machine's host name (in Kubernetes, the pod name).</param>
    /// <param name="ipAddress">The address others can reach the instance at.</param>
    /// <param name="ports">The application ports by scheme (<c>http</c>, <c>https</c>), the first of each scheme the server listens on.</param>
    /// <param name="readinessPath">The path of the readiness endpoint, such as <c>/ifready</c>.</param>
    /// <param name="livenessPath">The path of the liveness endpoint, such as <c>/health</c>.</param>
    public ServiceInstance(
        string applicationName,
        string hostName,
        string ipAddress,
        IReadOnlyDictionary<string, int> ports,
        string readinessPath,
        string livenessPath)
    {
        ArgumentNullException.ThrowIfNull(applicationName);
        ArgumentException.ThrowIfNullOrWhiteSpace(hostName);
        ArgumentException.ThrowIfNullOrWhiteSpace(ipAddress);
        ArgumentNullException.ThrowIfNull(ports);
        ArgumentNullException.ThrowIfNull(readinessPath);
        ArgumentNullException.ThrowIfNull(livenessPath);

        ApplicationName = applicationName;
        HostName = hostName;
        IpAddress = ipAddress;
        ReadinessPath = readinessPath;
        LivenessPath = livenessPath;
        _ports = new Dictionary<string, int>(ports, StringComparer.OrdinalIgnoreCase);

        // Plain http first: it is what health checkers and most consumers inside a cluster call.
        if (GetPort(Uri.UriSchemeHttp) is { } http)
        {
            (Scheme, Port) = (Uri.UriSchemeHttp, http);
        }
        else if (GetPort(Uri.UriSchemeHttps) is { } https)
        {
            (Scheme, Port) = (Uri.UriSchemeHttps, https);
        }
        else
        {
            Scheme = Uri.UriSchemeHttp;
        }
    }

    /// <summary>Gets the host's application name (<c>IHostEnvironment.ApplicationName</c>); empty when the host has none.</summary>
    public string ApplicationName { get; }

    /// <summary>Gets the machine's host name (in Kubernetes, the pod name, which may not resolve across the cluster).</summary>
    public string HostName { get; }

    /// <summary>
    /// Gets the address others can reach the instance at: the first IPv4 address of an interface that is up and not
    /// loopback; on an IPv6-only host the first routable IPv6 address; 127.0.0.1 only when there is neither.
    /// </summary>
    public string IpAddress { get; }

    /// <summary>
    /// Gets the port to register: the first application port with scheme http, else the first with https;
    /// <see langword="null"/> when the server listens on neither. The management port of <c>/prestop</c> is never chosen.
    /// </summary>
    public int? Port { get; }

    /// <summary>Gets the scheme of <see cref="Port"/>: <c>http</c> or <c>https</c>.</summary>
    public string Scheme { get; }

    /// <summary>Gets the path of the readiness endpoint, which a registry's health check should call.</summary>
    public string ReadinessPath { get; }

    /// <summary>Gets the path of the liveness endpoint.</summary>
    public string LivenessPath { get; }

    /// <summary>
    /// Gets the URL of the readiness endpoint at <see cref="IpAddress"/> and <see cref="Port"/>, for a registry that
    /// checks the instance itself; <see langword="null"/> when <see cref="Port"/> is unknown.
    /// </summary>
    public Uri? ReadinessUrl => Port is { } port ? new Uri($"{Scheme}://{HostForUrl(IpAddress)}:{port.ToString(CultureInfo.InvariantCulture)}{ReadinessPath}") : null;

    /// <summary>Gets the first application port the server listens on with <paramref name="scheme"/>, if any.</summary>
    /// <param name="scheme">The scheme, such as <c>http</c> or <c>https</c>.</param>
    /// <returns>The port, or <see langword="null"/> when the server has no application port with that scheme.</returns>
    public int? GetPort(string scheme) => _ports.TryGetValue(scheme, out var port) ? port : null;

    /// <summary>An address as the host part of a URL: an IPv6 address in brackets.</summary>
    private static string HostForUrl(string address) =>
        IPAddress.TryParse(address, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address;
}
