namespace GracefulLifecycle.Endpoints;

/// <summary>A path as routing matches it: without case (compare with <see cref="StringComparer.OrdinalIgnoreCase"/>) and without a trailing slash.</summary>
internal static class RoutePath
{
    /// <summary>Gets <paramref name="path"/> with one leading slash and no trailing one: <c>/health/</c> and <c>health</c> give <c>/health</c>.</summary>
    public static string Normalize(string? path) => "/" + (path ?? string.Empty).Trim('/');
}
