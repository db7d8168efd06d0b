namespace GracefulLifecycle.Transport;

/// <summary>
/// The one parser of a registry's server list: comma-separated absolute http(s) URLs, each made to end with '/', so
/// relative paths resolve under the base path. Every entry that is not such a URL is reported, never dropped.
/// </summary>
internal static class RegistryUrls
{
    /// <summary>Splits the list; entries that are not absolute http(s) URLs without query or fragment go to <paramref name="invalid"/>.</summary>
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

    /// <summary>
    /// The validation failures of a server list option: one per bad entry, and one when there is no entry at all.
    /// </summary>
    /// <param name="key">The configuration key, such as <c>GracefulLifecycle:Eureka:ServiceUrl</c>.</param>
    /// <param name="value">The option's value.</param>
    /// <param name="example">An example URL for the message.</param>
    public static IEnumerable<string> Validate(string key, string? value, string example)
    {
        var urls = Parse(value, out var invalid);
        foreach (var entry in invalid)
        {
            var redacted = RedactEntry(entry);
            yield return redacted == entry
                ? $"{key} contains '{entry}', which is not an absolute http(s) URL such as {example}."
                : $"{key} contains '{redacted}', which is not an absolute http(s) URL such as {example}; percent-encode '@' as %40, ':' as %3A and '/' as %2F in a user name or password.";
        }

        if (urls.Length == 0 && invalid.Length == 0)
        {
            yield return $"{key} must contain at least one absolute http(s) URL, such as {example} (comma-separated for several servers).";
        }
    }

    /// <summary>
    /// An entry that is not a URL, as it may appear in a message: whatever stands before its last '@' (after the
    /// scheme) may be credentials with an unencoded '@', ':' or '/' in them, and is replaced by <c>***</c>.
    /// </summary>
    public static string RedactEntry(string entry)
    {
        var scheme = entry.IndexOf("://", StringComparison.Ordinal);
        var start = scheme < 0 ? 0 : scheme + 3;
        var at = entry.LastIndexOf('@');
        return at < start ? entry : string.Concat(entry.AsSpan(0, start), "***", entry.AsSpan(at));
    }

    /// <summary>A server URL as it may appear in logs and exception messages: without any user:password part.</summary>
    public static string Redact(Uri url) =>
        string.IsNullOrEmpty(url.UserInfo) ? url.ToString() : url.GetComponents(UriComponents.AbsoluteUri & ~UriComponents.UserInfo, UriFormat.UriEscaped);
}
