using System.Net;
using System.Security.Cryptography;
using System.Text;
using GracefulLifecycle.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Endpoints;

/// <summary>
/// The access checks of the preStop endpoint (see <see cref="PreStopOptions"/>): loopback only by default;
/// otherwise every configured check (management port, token, allowed networks) must pass. Addresses and ports come
/// from the transport, never from request headers, and a call a browser makes on behalf of another site is refused.
/// </summary>
internal sealed class PreStopGate
{
    private readonly int? _managementPort;
    private readonly string _tokenHeader;
    private readonly byte[]? _tokenHash;
    private readonly IPNetwork[] _networks;
    private readonly bool _checkAddress;
    private readonly bool _loopbackOnly;
    private readonly string? _kubernetesServiceHost;
    private readonly ILogger _logger;
    private readonly LifecycleMetrics _metrics;

    public PreStopGate(IOptions<GracefulLifecycleOptions> options, LifecycleMetrics metrics, ILogger<PreStopGate> logger, IConfiguration? configuration = null)
    {
        _metrics = metrics;
        var preStop = options.Value.PreStop;
        _managementPort = preStop.ManagementPort;
        _tokenHeader = preStop.TokenHeaderName;
        _tokenHash = preStop.Token is { } token ? Hash(token) : null;
        _networks = preStop.AllowedNetworks.Select(n => IPNetwork.Parse(n)).ToArray();
        _checkAddress = _networks.Length > 0 || (_managementPort is null && _tokenHash is null);
        _loopbackOnly = _managementPort is null && _tokenHash is null && _networks.Length == 0;

        // The host's configuration carries every environment variable, the one the kubelet sets in each container too.
        _kubernetesServiceHost = configuration?["KUBERNETES_SERVICE_HOST"];
        _logger = logger;
    }

    /// <summary>Warns once the endpoint is mapped if, in Kubernetes, nothing but the loopback rule guards it.</summary>
    public void WarnIfWeaklyGuarded()
    {
        // In a pod, loopback is every container of the pod, and under a service mesh every client of the pod: Istio's
        // sidecar connects to the app from 127.0.0.6, Linkerd's and an nginx sidecar's from 127.0.0.1.
        if (_loopbackOnly && !string.IsNullOrEmpty(_kubernetesServiceHost))
        {
            Log.PreStopLoopbackOnlyInKubernetes(_logger);
        }
    }

    /// <summary>Decides whether the call may start the shutdown; a refusal is counted.</summary>
    public PreStopDecision Evaluate(HttpContext context)
    {
        var decision = Decide(context);
        if (!decision.IsAllowed)
        {
            _metrics.PreStopRefused(decision.StatusCode);
        }

        return decision;
    }

    private PreStopDecision Decide(HttpContext context)
    {
        var known = TransportAddresses.TryRead(context, out var transport);
        if (_managementPort is { } port && (!known || transport.LocalPort != port))
        {
            // Off the management port the endpoint does not exist.
            return new(StatusCodes.Status404NotFound, $"not the management port {port}");
        }

        if ((CrossSiteReason(context.Request) ?? (_tokenHash is null ? RebindingReason(context.Request) : null)) is { } browser)
        {
            return new(StatusCodes.Status403Forbidden, browser);
        }

        if (_tokenHash is not null)
        {
            var sent = context.Request.Headers[_tokenHeader];
            if (sent.Count != 1 || !CryptographicOperations.FixedTimeEquals(Hash(sent[0] ?? string.Empty), _tokenHash))
            {
                return new(StatusCodes.Status403Forbidden, $"missing or wrong {_tokenHeader} header");
            }
        }

        if (_checkAddress)
        {
            if (!known)
            {
                // Fail closed: without the transport's own address only headers would be left to decide on.
                return new(StatusCodes.Status403Forbidden, "the server gives no transport address for the connection; use PreStop:Token on this server");
            }

            if (!IsAllowed(transport))
            {
                return new(StatusCodes.Status403Forbidden, _networks.Length == 0
                    ? "the connection is not on loopback"
                    : "the connection is neither on loopback nor from PreStop:AllowedNetworks");
            }
        }

        return PreStopDecision.Allowed;
    }

    /// <summary>The caller as the transport sees it, for the log line of a refusal.</summary>
    public static string DescribeCaller(HttpContext context) =>
        TransportAddresses.TryRead(context, out var transport) ? transport.Remote.ToString() : "(unknown)";

    /// <summary>
    /// A browser on the same host (or behind the same proxy) can be made to send a simple GET or POST here by any page
    /// it visits. Browsers mark such calls with <c>Sec-Fetch-Site</c> and, for a POST, <c>Origin</c>; the kubelet's
    /// httpGet hook, curl and scripts send neither, so refusing them costs legitimate callers nothing. A page on the
    /// attacker's own name rebound to this address passes this check: <see cref="RebindingReason"/> catches it.
    /// </summary>
    private static string? CrossSiteReason(HttpRequest request)
    {
        var fetchSite = request.Headers["Sec-Fetch-Site"];
        if (fetchSite.Count > 0 && !(fetchSite.Count == 1 && (fetchSite[0] is "same-origin" or "none")))
        {
            // "same-site" too: another port on localhost is the same site.
            return $"a browser call from another site (Sec-Fetch-Site: {fetchSite})";
        }

        var origin = request.Headers.Origin;
        if (origin.Count > 0)
        {
            var own = $"{request.Scheme}://{request.Host.Value}";
            if (origin.Count != 1 || !string.Equals(origin[0], own, StringComparison.OrdinalIgnoreCase))
            {
                return "a browser call from another origin (Origin header)";
            }
        }

        return null;
    }

    /// <summary>
    /// DNS rebinding: a page whose name the attacker points at 127.0.0.1 (or at the pod) is, to the browser, on its own
    /// origin, so <c>Origin</c> matches <c>Host</c> and <c>Sec-Fetch-Site</c> says same-origin; only <c>Host</c> still
    /// carries the attacker's name. So a call shaped like a browser's (<c>Origin</c>, any <c>Sec-Fetch-*</c>, or a
    /// <c>Mozilla/</c> user agent, which older browsers send without the other two on a GET) must name the server as
    /// loopback (<c>localhost</c>, <c>127.0.0.1</c>, <c>[::1]</c>) when no token guards the endpoint; with a token the
    /// page cannot know, the token decides. The kubelet's httpGet hook (<c>kube-lifecycle/</c>, <c>Host</c> the pod IP,
    /// also when a mesh's sidecar hands it over on loopback), curl and scripts send none of these.
    /// </summary>
    private static string? RebindingReason(HttpRequest request)
    {
        var headers = request.Headers;
        var browserShaped = headers.Origin.Count > 0 ||
            headers.UserAgent.Any(static agent => agent?.StartsWith("Mozilla/", StringComparison.Ordinal) == true) ||
            headers.Keys.Any(static name => name.StartsWith("Sec-Fetch-", StringComparison.OrdinalIgnoreCase));
        if (!browserShaped || IsLoopbackName(request.Host.Host))
        {
            return null;
        }

        return $"a browser call for host '{request.Host.Value}', not localhost or a loopback address (DNS rebinding); set PreStop:Token to let browsers call";
    }

    private static bool IsLoopbackName(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) ||
        (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    private bool IsAllowed(TransportAddresses transport)
    {
        if (transport.IsLoopback)
        {
            return true;
        }

        foreach (var network in _networks)
        {
            if (network.Contains(transport.Remote))
            {
                return true;
            }
        }

        return false;
    }

    // Hashing first gives both sides the same length, so the comparison time says nothing about the token.
    private static byte[] Hash(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));
}
