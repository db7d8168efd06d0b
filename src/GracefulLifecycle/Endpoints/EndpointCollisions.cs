using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace GracefulLifecycle.Endpoints;

/// <summary>
/// Finds other endpoints mapped at the path of one of the lifecycle's, for the same method and port. Routing cannot
/// tell them apart: it answers 500 (an ambiguous match) or one of them without a word (with Aspire's
/// <c>MapDefaultEndpoints</c> and the default paths, Aspire's <c>/health</c> would meet the lifecycle's liveness). Paths
/// are compared as routing matches them, without case or a trailing slash.
/// </summary>
internal static class EndpointCollisions
{
    public const string DisplayNamePrefix = "GracefulLifecycle ";

    /// <summary>Gets one message per collision, naming the option behind the lifecycle's endpoint and the other endpoint.</summary>
    public static List<string> Find(EndpointDataSource endpoints)
    {
        var failures = new List<string>();
        var routes = endpoints.Endpoints.OfType<RouteEndpoint>().ToList();
        var ours = routes.Where(IsOurs).ToList();
        for (var i = 0; i < ours.Count; i++)
        {
            // Two of the lifecycle's own meet only when one was mapped at a pattern: the options validator refuses the
            // same path twice among the options.
            var others = routes.Where(r => !IsOurs(r)).Concat(ours.Skip(i + 1).Where(r => IsMappedAtPattern(ours[i]) || IsMappedAtPattern(r)));
            foreach (var match in others.Where(r => Collide(ours[i], r)))
            {
                // Told from the side of the pattern when only one of the two was given one: that is the one to change.
                var (one, other) = IsOurs(match) && IsMappedAtPattern(match) && !IsMappedAtPattern(ours[i]) ? (match, ours[i]) : (ours[i], match);
                var methods = other.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods is { Count: > 0 } m ? string.Join("|", m) : "every method";
                var source = SourceOf(one);
                failures.Add(
                    $"{source} ('{one.RoutePattern.RawText}', {one.DisplayName}) is also the path of " +
                    $"'{other.DisplayName ?? other.RoutePattern.RawText}' ('{other.RoutePattern.RawText}', {methods}) on every port: routing ignores case and a " +
                    $"trailing slash and cannot tell them apart. Change {source}, map the other endpoint elsewhere, " +
                    "or keep one of them to a management port (RequireLocalPort).");
            }
        }

        return failures;
    }

    private static bool IsOurs(RouteEndpoint endpoint) => endpoint.DisplayName?.StartsWith(DisplayNamePrefix, StringComparison.Ordinal) == true;

    private static bool IsMappedAtPattern(RouteEndpoint endpoint) => endpoint.Metadata.GetMetadata<MappedPattern>() is not null;

    // What set the path: the option, or the pattern given to a Map* method.
    private static string SourceOf(RouteEndpoint ours) => ours.Metadata.GetMetadata<MappedPattern>() is { } mapped
        ? $"the pattern of {mapped.Method}"
        : $"{GracefulLifecycleOptions.SectionName}:{OptionOf(ours)}";

    private static string OptionOf(RouteEndpoint ours) => ours.DisplayName switch
    {
        EndpointNames.Liveness => nameof(GracefulLifecycleOptions.LivenessPath),
        EndpointNames.Readiness => nameof(GracefulLifecycleOptions.ReadinessPath),
        _ => nameof(GracefulLifecycleOptions.PreStopPath),
    };

    private static bool Collide(RouteEndpoint ours, RouteEndpoint other)
    {
        if (!string.Equals(RoutePath.Normalize(ours.RoutePattern.RawText), RoutePath.Normalize(other.RoutePattern.RawText), StringComparison.OrdinalIgnoreCase))
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
}
