using System.Diagnostics;
using System.Globalization;

namespace GracefulLifecycle.Bench;

/// <summary>
/// How busy the machine is with work that is not the bench's: CPU time from <c>/proc/stat</c> minus that of the
/// bench's own processes (<c>/proc/PID/stat</c>), and the time the hypervisor took (steal). On a shared machine a
/// figure measured while others ran is not comparable, so each measurement waits for a quiet machine first and
/// reports what it saw during its run.
/// </summary>
internal sealed class CpuMonitor
{
    /// <summary>Gets the threshold under which the machine counts as quiet, in percent of all CPUs.</summary>
    public double QuietBelowPercent { get; init; } = 10;

    /// <summary>Gets the longest <see cref="WaitQuietAsync"/> waits before measuring anyway.</summary>
    public TimeSpan MaxWait { get; init; } = TimeSpan.FromSeconds(120);

    public static Snapshot Take()
    {
        // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest time is already in user).
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        var total = fields.Take(8).Sum();
        var busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6];
        return new Snapshot(total, busy, fields[7], OursTicks());
    }

    /// <summary>Waits, bounded by <see cref="MaxWait"/>, until others use less than the threshold over one second.</summary>
    /// <returns>The share of the machine others used in the last second measured, in percent.</returns>
    public async Task<double> WaitQuietAsync(TextWriter progress)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var before = Take();
            await Task.Delay(TimeSpan.FromSeconds(1));
            var other = Usage.Between(before, Take()).OtherPercent;
            if (other < QuietBelowPercent)
            {
                return other;
            }

            if (waited.Elapsed > MaxWait)
            {
                progress.WriteLine(FormattableString.Invariant($"[cpu] still {other:F0}% busy with other work after {MaxWait.TotalSeconds:F0} s; measuring anyway"));
                return other;
            }
        }
    }

    /// <summary>
    /// The CPU time of the bench and its children (the apps and wrk): the children still running, read one by one,
    /// and those that have exited, which the kernel adds to the bench's own cutime and cstime once reaped.
    /// </summary>
    private static long OursTicks()
    {
        var self = Environment.ProcessId;
        long children = 0;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid != self
                && Stat(pid) is { } child && long.Parse(child[1], CultureInfo.InvariantCulture) == self)
            {
                children += Ticks(child, 11) + Ticks(child, 12);
            }
        }

        var own = Stat(self)!;
        return children + Ticks(own, 11) + Ticks(own, 12) + Ticks(own, 13) + Ticks(own, 14);
    }

    /// <summary>The fields of /proc/PID/stat after the command name (state, ppid, …, utime at 11), or null once it has gone.</summary>
    private static string[]? Stat(int processId)
    {
        try
        {
            // The command name is in parentheses and may contain spaces: split after its closing one.
            var stat = File.ReadAllText($"/proc/{processId}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long Ticks(string[] fields, int index) => long.Parse(fields[index], CultureInfo.InvariantCulture);

    internal readonly record struct Snapshot(long Total, long Busy, long Steal, long Ours);

    /// <summary>What others and the hypervisor took between two snapshots, in percent of all CPUs.</summary>
    internal readonly record struct Usage(double OtherPercent, double StealPercent)
    {
        public static Usage Between(Snapshot before, Snapshot after)
        {
            double total = after.Total - before.Total;
            if (total <= 0)
            {
                return new Usage(0, 0);
            }

            var other = Math.Max(0, (after.Busy - before.Busy) - (after.Ours - before.Ours));
            return new Usage(100 * other / total, 100 * (after.Steal - before.Steal) / total);
        }
    }
}
