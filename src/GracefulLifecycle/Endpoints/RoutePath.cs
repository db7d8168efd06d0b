namespace GracefulLifecycle.Endpoints;

/// <summary>A path as routing matches it: without case (compare with <see cref="StringComparer.OrdinalIgnoreCase"/>) and without a trailing slash.</summary>
internal static class RoutePath
{
    /// <summary>Gets <paramref name="path"/> with one leading slash and no trailing one: <c>/health/</c> and <c>health</c> give <c>/health</c>.</summary>
    public static string Normalize(string? path) => "/" + (path ?? string.Empty).Trim('/');

    /// <summary>
    /// Gets a value indicating whether <paramref name="path"/> is a plain path such as <c>/health</c>: a route template
    /// with a parameter, catch-all or query would make a probe answer on paths nobody configured (or on none), and a
    /// registry is told the path to check.
    /// </summary>
    public static bool IsPlain(string? path) =>
        !string.IsNullOrEmpty(path) && path[0] == '/' &&
        path.IndexOfAny(['{', '}', '*', '?', '#', '%', '\\', ' ', '\t']) < 0 &&
        !path.Contains("//", StringComparison.Ordinal) && !path.Contains("/./", StringComparison.Ordinal) && !path.Contains("/../", StringComparison.Ordinal);
}
