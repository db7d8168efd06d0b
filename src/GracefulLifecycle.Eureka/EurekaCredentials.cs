using System.Globalization;
using System.Net.Http.Headers;
using System.Text;

namespace GracefulLifecycle.Eureka;

/// <summary>
/// The credentials of a secured Eureka server, written into its service URL as Spring Cloud does
/// (<c>http://user:password@eureka:8761/eureka/</c>, a server behind Spring Security's basic authentication), sent
/// as <c>Authorization: Basic</c> on every call to that server and to no other.
/// </summary>
/// <remarks>
/// The user info is read as Spring Cloud's client reads it (spring-cloud-netflix <c>EurekaHttpClientUtils.extractUserInfo</c>,
/// Netflix/eureka <c>AbstractJersey2EurekaHttpClient</c>): percent-decoded as UTF-8 (<c>java.net.URI.getUserInfo</c>),
/// user and password separated by a colon. Spring splits the decoded text at every colon and silently sends nothing
/// unless there are exactly two parts; here the URL is split at its first literal colon before decoding, so a password
/// may contain a colon (encoded or not), and user info Spring would silently drop (no password, an empty one, a
/// malformed escape) fails validation with a message instead of going out as no credentials. The header is UTF-8, the
/// charset Spring Security's <c>BasicAuthenticationConverter</c> decodes it with.
/// </remarks>
internal static class EurekaCredentials
{
    private const string Encoding = "percent-encode '@' as %40, ':' as %3A, '/' as %2F and '%' as %25 in the user name and password";

    /// <summary>
    /// The problem with the user info of <paramref name="url"/> as written in <paramref name="entry"/>, or null when it
    /// has none or it is a valid <c>user:password</c>. The message never quotes the credentials.
    /// </summary>
    public static string? Problem(string entry, Uri url)
    {
        if (string.IsNullOrEmpty(url.UserInfo))
        {
            return null;
        }

        // Uri escapes a stray '%' as %25, so a malformed escape is only visible in what was written.
        if (!WellFormedEscapes(RawUserInfo(entry)))
        {
            return $"has a '%' in its user info that does not start an escape such as %40; {Encoding}";
        }

        if (!TryParse(url, out var user, out var password))
        {
            return $"has user info that is not valid UTF-8 once percent-decoded; {Encoding}";
        }

        return password is null ? $"has a user name but no password; write them as {Example(url)} ({Encoding})"
            : user.Length == 0 ? $"has a password but no user name; write them as {Example(url)} ({Encoding})"
            : password.Length == 0 ? $"has an empty password; write them as {Example(url)} ({Encoding})"
            : user.Contains(':', StringComparison.Ordinal) ? "has a user name with a ':' (%3A), which basic authentication cannot carry"
            : null;
    }

    /// <summary>The <c>Authorization</c> header for the user info of <paramref name="url"/>, or null when it has none.</summary>
    public static AuthenticationHeaderValue? Header(Uri url)
    {
        if (string.IsNullOrEmpty(url.UserInfo) || !TryParse(url, out var user, out var password) || password is null)
        {
            // Validation rejects these at startup; nothing is sent rather than something malformed.
            return null;
        }

        return new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(user + ":" + password)));
    }

    /// <summary>The URL without its user info: what is sent on the wire and what handlers and logs may see.</summary>
    public static Uri WithoutUserInfo(Uri url) =>
        string.IsNullOrEmpty(url.UserInfo) ? url : new Uri(url.GetComponents(UriComponents.AbsoluteUri & ~UriComponents.UserInfo, UriFormat.UriEscaped));

    private static bool TryParse(Uri url, out string user, out string? password)
    {
        // Uri keeps reserved characters escaped in UserInfo (%3A stays %3A), so the first literal ':' is the separator.
        var info = url.UserInfo;
        var colon = info.IndexOf(':', StringComparison.Ordinal);
        password = null;
        if (!TryDecode(colon < 0 ? info : info[..colon], out user))
        {
            return false;
        }

        if (colon < 0)
        {
            return true;
        }

        if (!TryDecode(info[(colon + 1)..], out var decoded))
        {
            return false;
        }

        password = decoded;
        return true;
    }

    /// <summary>Percent-decodes as <c>java.net.URI</c> does (UTF-8), but refuses bytes that are not UTF-8 instead of replacing them.</summary>
    private static bool TryDecode(string text, out string decoded)
    {
        var bytes = new List<byte>(text.Length);
        var run = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '%' && i + 2 < text.Length
                && byte.TryParse(text.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b))
            {
                bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(text[run..i]));
                bytes.Add(b);
                i += 2;
                run = i + 1;
            }
        }

        bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(text[run..]));
        try
        {
            decoded = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes.ToArray());
            return true;
        }
        catch (DecoderFallbackException)
        {
            decoded = string.Empty;
            return false;
        }
    }

    private static string RawUserInfo(string entry)
    {
        var start = entry.IndexOf("://", StringComparison.Ordinal);
        var authority = start < 0 ? entry : entry[(start + 3)..];
        var end = authority.IndexOfAny(['/', '?', '#']);
        authority = end < 0 ? authority : authority[..end];
        var at = authority.LastIndexOf('@');
        return at < 0 ? string.Empty : authority[..at];
    }

    private static bool WellFormedEscapes(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '%' && (i + 2 >= text.Length || !Uri.IsHexDigit(text[i + 1]) || !Uri.IsHexDigit(text[i + 2])))
            {
                return false;
            }
        }

        return true;
    }

    private static string Example(Uri url) =>
        url.Scheme + "://user:password@" + url.Authority + url.AbsolutePath;
}
