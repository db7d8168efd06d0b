using System.Globalization;
using System.Text.RegularExpressions;
using GracefulLifecycle.Drill;

namespace GracefulLifecycle.Bench;

/// <summary>One timed wrk run (<c>-d</c>), optionally pinned to CPUs with <c>taskset</c>.</summary>
internal static partial class WrkLoad
{
    public static ChildProcess Start(Uri target, int threads, int connections, TimeSpan duration, string? cpus)
    {
        var binary = WrkOutput.Binary;
        string[] arguments =
        [
            "-t", Invariant(threads), "-c", Invariant(connections), "-d", Invariant((int)Math.Ceiling(duration.TotalSeconds)) + "s",
            "--timeout", "5s", "--latency", target.ToString(),
        ];
        return cpus is null ? new ChildProcess(binary, arguments) : new ChildProcess("taskset", ["-c", cpus, binary, .. arguments]);
    }

    public static async Task<WrkResult> RunAsync(Uri target, int threads, int connections, TimeSpan duration, string? cpus)
    {
        await using var wrk = Start(target, threads, connections, duration, cpus);
        return await ResultAsync(wrk, duration);
    }

    /// <summary>Waits (bounded) for a wrk started with <see cref="Start"/> to finish and reads its report.</summary>
    public static async Task<WrkResult> ResultAsync(ChildProcess wrk, TimeSpan duration)
    {
        if (!await wrk.WaitForExitAsync(duration + TimeSpan.FromSeconds(30)))
        {
            throw new InvalidOperationException("wrk did not finish in time.");
        }

        var output = wrk.Output;
        var rate = RequestsPerSecondLine().Match(output);
        if (wrk.ExitCode != 0 || !rate.Success)
        {
            throw new InvalidOperationException($"wrk failed (exit code {wrk.ExitCode}):{Environment.NewLine}{output}");
        }

        var (connect, read, write, timeout) = WrkOutput.SocketErrors(output);
        return new WrkResult(
            double.Parse(rate.Groups[1].Value, CultureInfo.InvariantCulture),
            WrkOutput.Requests(output),
            WrkOutput.Non2xx(output),
            connect + read + write + timeout,
            Latency(output, "50"),
            Latency(output, "99"));
    }

    /// <summary>A line of wrk's latency distribution, such as <c>99%    1.23ms</c>, in milliseconds; NaN if absent.</summary>
    private static double Latency(string output, string percentile)
    {
        foreach (Match match in LatencyLine().Matches(output))
        {
            if (match.Groups[1].Value == percentile)
            {
                var value = double.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
                return match.Groups[3].Value switch
                {
                    "us" => value / 1000,
                    "s" => value * 1000,
                    _ => value,
                };
            }
        }

        return double.NaN;
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RequestsPerSecondLine();

    [GeneratedRegex(@"^\s*(\d+)%\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline)]
    private static partial Regex LatencyLine();
}
