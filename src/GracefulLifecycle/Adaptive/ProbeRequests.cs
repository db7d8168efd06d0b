using GracefulLifecycle.Endpoints;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace GracefulLifecycle.Adaptive;

/// <summary>
/// Tells a probe from traffic, for the adaptive delay and the shutdown timeline, without configuration: a probe says
/// nothing about where a balancer routes, and counting it would hold the delay for as long as probes come. A probe is a
/// request with the kubelet's User-Agent, one to the gRPC health service, one to a health-check endpoint
/// (<c>MapHealthChecks</c>, whatever its path, Aspire's <c>/health</c> and <c>/alive</c> among them), or one to the
/// lifecycle's liveness or preStop path or to <see cref="AdaptiveDelayOptions.ExcludedPaths"/>. The readiness path is
/// the caller's to compare first: its checks are counted per peer.
/// </summary>
internal sealed class ProbeRequests
{
    /// <summary>
    /// The kubelet's probes: <c>kube-probe/&lt;major&gt;.&lt;minor&gt;</c> unless the probe sets its own header
    /// (kubernetes/kubernetes pkg/probe/http/request.go, <c>userAgent("probe")</c>). They come from the node's address,
    /// which Service traffic may share once SNAT'd (<c>externalTrafficPolicy: Cluster</c>).
    /// </summary>
    public const string KubeletUserAgent = "kube-probe/";

    /// <summary>The methods of <c>grpc.health.v1.Health</c> (<c>Check</c>, <c>Watch</c>, <c>List</c>), as gRPC paths.</summary>
    public const string GrpcHealthService = "/grpc.health.v1.Health/";

    /// <summary>
    /// The display name <c>MapHealthChecks</c> gives its endpoints (dotnet/aspnetcore
    /// src/Middleware/HealthChecks/src/Builder/HealthCheckEndpointRouteBuilderExtensions.cs, <c>DefaultDisplayName</c>).
    /// </summary>
    public const string HealthChecksDisplayName = "Health checks";

    private readonly string[] _configured;
    private readonly IServiceProvider? _services;
    private string[]? _healthChecks;
    private int _watching;

    public ProbeRequests(IOptions<GracefulLifecycleOptions> options, IServiceProvider? services = null)
    {
        var o = options.Value;
        _configured = [.. new[] { o.LivenessPath, o.PreStopPath }.Concat(o.AdaptiveDelay.ExcludedPaths)
            .Where(p => !string.IsNullOrEmpty(p)).Select(p => p.TrimEnd('/'))];
        _services = services;
    }

    /// <summary>Gets a value indicating whether the kubelet sent the request, whatever its path.</summary>
    public static bool FromKubelet(StringValues userAgent) =>
        userAgent.Count > 0 && userAgent[0] is { } agent && agent.StartsWith(KubeletUserAgent, StringComparison.Ordinal);

    /// <summary>Gets a value indicating whether a request to <paramref name="path"/> (without a trailing slash) is a probe.</summary>
    public bool IsProbePath(ReadOnlySpan<char> path)
    {
        if (path.StartsWith(GrpcHealthService, StringComparison.Ordinal))
        {
            return true;
        }

        foreach (var probe in _configured)
        {
            if (path.Equals(probe, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        foreach (var probe in HealthCheckPaths())
        {
            if (path.Equals(probe, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The paths of the health-check endpoints, read from the endpoints once they serve (the first request comes after
    /// the application mapped them) and again when they change. Routes with parameters are left out.
    /// </summary>
    private string[] HealthCheckPaths()
    {
        if (Volatile.Read(ref _healthChecks) is { } known)
        {
            return known;
        }

        var source = _services?.GetService<EndpointDataSource>();
        if (source is not null && Interlocked.Exchange(ref _watching, 1) == 0)
        {
            ChangeToken.OnChange(source.GetChangeToken, () => Volatile.Write(ref _healthChecks, null));
        }

        var paths = source is null ? [] : source.Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.DisplayName == HealthChecksDisplayName && e.RoutePattern.Parameters.Count == 0)
            .Select(e => RoutePath.Normalize(e.RoutePattern.RawText))
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .ToArray();
        Volatile.Write(ref _healthChecks, paths);
        return paths;
    }
}
