using Xunit.Abstractions;

namespace GracefulLifecycle.Eureka.Tests.Infrastructure;

/// <summary>
/// Timing figures, written to the test output and appended to the file named by <c>GRACEFUL_LIFECYCLE_TIMINGS</c>
/// (CI prints it) so they can be reported.
/// </summary>
internal static class Measurements
{
    private static readonly Lock Gate = new();

    public static void Record(ITestOutputHelper output, string name, double milliseconds)
    {
        var line = $"{name}: {milliseconds:F0} ms";
        output.WriteLine(line);
        if (Environment.GetEnvironmentVariable("GRACEFUL_LIFECYCLE_TIMINGS") is { Length: > 0 } file)
        {
            lock (Gate)
            {
                File.AppendAllText(file, line + Environment.NewLine);
            }
        }
    }
}
