using System.Globalization;
using System.Text.RegularExpressions;

namespace GracefulLifecycle.Drill;

/// <summary>Where Debian's wrk lives, and the counts in the summary it prints when it ends.</summary>
internal static partial class WrkOutput
{
    private static readonly string[] Locations = ["/usr/bin/wrk", "/usr/local/bin/wrk"];

    /// <summary>The wrk executable, or a clear error naming the package to install.</summary>
    public static string Binary => Locations.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("wrk was not found: install Debian's wrk package (apt-get install -y wrk).");

    /// <summary>The total of <c>N requests in …</c>.</summary>
    public static long Requests(string output) => Number(RequestsLine(), output);

    /// <summary>
    /// <c>Non-2xx or 3xx responses: N</c>, 0 when wrk left the line out (it does when there were none). Despite the
    /// label, wrk counts there every status of 400 or above, and nothing else.
    /// </summary>
    public static long Non2xx(string output) => Number(Non2xxLine(), output);

    /// <summary><c>Socket errors: connect C, read R, write W, timeout T</c>, all 0 when wrk left the line out.</summary>
    public static (long Connect, long Read, long Write, long Timeout) SocketErrors(string output)
    {
        var match = SocketErrorsLine().Match(output);
        return match.Success
            ? (Group(match, 1), Group(match, 2), Group(match, 3), Group(match, 4))
            : (0, 0, 0, 0);
    }

    private static long Number(Regex pattern, string text)
    {
        var match = pattern.Match(text);
        return match.Success ? Group(match, 1) : 0;
    }

    private static long Group(Match match, int group) => long.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"(\d+) requests in")]
    private static partial Regex RequestsLine();

    [GeneratedRegex(@"Non-2xx or 3xx responses: (\d+)")]
    private static partial Regex Non2xxLine();

    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex SocketErrorsLine();
}
