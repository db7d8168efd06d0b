namespace GracefulLifecycle.Etcd.Tests;

/// <summary>Appends a measured figure to the file named by <c>GRACEFUL_LIFECYCLE_TIMINGS</c>, which CI prints.</summary>
internal static class Timings
{
    public static void Append(string line)
    {
        if (Environment.GetEnvironmentVariable("GRACEFUL_LIFECYCLE_TIMINGS") is { Length: > 0 } file)
        {
            File.AppendAllText(file, line + Environment.NewLine);
        }
    }
}
