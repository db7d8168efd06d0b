using System.Globalization;

namespace GracefulLifecycle.TestSupport;

/// <summary>
/// Measured figures of the tests, written to the test output and appended to the file named by
/// <c>GRACEFUL_LIFECYCLE_TIMINGS</c>, which CI prints, so they can be reported.
/// </summary>
public static class Measurements
{
    private static readonly Lock Gate = new();

    public static void Record(Action<string> output, string name, double milliseconds)
    {
        ArgumentNullException.ThrowIfNull(output);
        var line = string.Create(CultureInfo.InvariantCulture, $"{name}: {milliseconds:F0} ms");
        output(line);
        Append(line);
    }

    public static void Append(string line)
    {
        if (Environment.GetEnvironmentVariable("GRACEFUL_LIFECYCLE_TIMINGS") is { Length: > 0 } file)
        {
            lock (Gate)
            {
                File.AppendAllText(file, line + Environment.NewLine);
            }
        }
    }
}
