namespace GracefulLifecycle.Eureka;

/// <summary>Parses <see cref="EurekaOptions.ServiceUrl"/>: comma-separated absolute http(s) URLs, each made to end with '/'.</summary>
internal static class ServiceUrls
{
    /// <summary>Splits the list; entries that are not absolute http(s) URLs go to <paramref name="invalid"/>.</summary>
    public static Uri[] Parse(string? value, out string[] invalid)
    {
        var urls = new List<Uri>();
        var bad = new List<string>();
        foreach (var entry in (value ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Uri.TryCreate(entry, UriKind.Absolute, out var uri)
                && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
                && string.IsNullOrEmpty(uri.Query)
                && string.IsNullOrEmpty(uri.Fragment))
            {
                // Relative paths (apps/APP) resolve under the base path only when it ends with '/'.
                urls.Add(uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/"));
            }
            else
            {
                bad.Add(entry);
            }
        }

        invalid = [.. bad];
        return [.. urls];
    }

    /// <summary>A server URL as it may appear in logs and exception messages: without any user:password part.</summary>
    public static string Redact(Uri url) =>
        string.IsNullOrEmpty(url.UserInfo) ? url.ToString() : url.GetComponents(UriComponents.AbsoluteUri & ~UriComponents.UserInfo, UriFormat.UriEscaped);
}
