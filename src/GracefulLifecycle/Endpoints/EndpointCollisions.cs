using GracefulLifecycle.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Endpoints;

/// <summary>
/// Finds other endpoints mapped at the path of one of the lifecycle's, for the same method and port: routing then
/// answers with one of them without a word (with Aspire's <c>MapDefaultEndpoints</c> and the default paths, the
/// lifecycle's liveness answers on <c>/health</c>, where Aspire's orchestration expects readiness over all checks).
/// </summary>
internal static class EndpointCollisions
{
    public const string DisplayNamePrefix = "GracefulLifecycle ";

    public static void WarnAbout(EndpointDataSource endpoints, ILogger logger)
    {
        var routes = endpoints.Endpoints.OfType<RouteEndpoint>().ToList();
        foreach (var ours in routes.Where(IsOurs))
        {
            foreach (var other in routes.Where(r => !IsOurs(r) && Collide(ours, r)))
            {
                Log.EndpointPathShared(logger, ours.DisplayName!, ours.RoutePattern.RawText ?? string.Empty, other.DisplayName ?? other.RoutePattern.RawText ?? "another endpoint");
            }
        }
    }

    private static bool IsOurs(RouteEndpoint endpoint) => endpoint.DisplayName?.StartsWith(DisplayNamePrefix, StringComparison.Ordinal) == true;

    private static bool Collide(RouteEndpoint ours, RouteEndpoint other)
    {
        if (!string.Equals(Normalize(ours.RoutePattern.RawText), Normalize(other.RoutePattern.RawText), StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var ourMethods = ours.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [];
        var otherMethods = other.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods;
        if (otherMethods is not null && otherMethods.Count > 0 && !otherMethods.Intersect(ourMethods, StringComparer.OrdinalIgnoreCase).Any())
        {
            return false;
        }

        // Endpoints kept to different local ports never meet; one kept to a port wins there over one that is not.
        var ourPorts = ours.Metadata.GetMetadata<LocalPortMetadata>()?.Ports;
        var otherPorts = other.Metadata.GetMetadata<LocalPortMetadata>()?.Ports;
        return ourPorts is null && otherPorts is null;
    }

    private static string Normalize(string? pattern) => "/" + (pattern ?? string.Empty).Trim('/');
}
