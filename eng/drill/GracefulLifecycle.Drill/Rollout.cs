using System.Diagnostics;
using System.Globalization;

namespace GracefulLifecycle.Drill;

/// <summary>What the rollout itself did, whatever the load: how long it took and how each old replica left.</summary>
internal sealed record Rollout(TimeSpan Duration, IReadOnlyList<Termination> Terminations)
{
    /// <summary>Gets how many replicas had to be killed because they outlived the grace period.</summary>
    public int Killed => Terminations.Count(t => !t.ExitedByItself);

    /// <summary>Gets the longest time an old replica took from SIGTERM to exit (to SIGKILL for a killed one).</summary>
    public TimeSpan LongestExit => Terminations.Count == 0 ? TimeSpan.Zero : Terminations.Max(t => t.SigTermToExit);

    /// <summary>Gets how many replicas exited by themselves with another code than 0: they failed on their way out.</summary>
    public int Crashed => Terminations.Count(t => t.ExitedByItself && t.ExitCode != 0);

    /// <summary>
    /// Tells when connections ended, each counted from the SIGTERM of the replica it most likely ended on: the first
    /// replica to exit after the end among those already signalled (a replica ends its connections before it exits,
    /// or as it is killed; 0.3 s of slack for the kill). At the signal is about 0 s, at the drain start about the
    /// shutdown delay, at the kill about the grace period.
    /// </summary>
    /// <param name="ends">When each connection ended, as <see cref="Stopwatch.GetTimestamp"/> values.</param>
    public string DescribeEnds(IReadOnlyCollection<long> ends)
    {
        var slack = (long)(0.3 * Stopwatch.Frequency);
        var offsets = new List<double>();
        var elsewhere = 0;
        foreach (var end in ends)
        {
            var replica = Terminations
                .Where(t => t.SignalledAt != 0 && t.SignalledAt <= end && t.ExitedAt >= end - slack)
                .OrderBy(t => t.ExitedAt)
                .FirstOrDefault();
            if (replica is null)
            {
                elsewhere++;
            }
            else
            {
                offsets.Add(Stopwatch.GetElapsedTime(replica.SignalledAt, end).TotalSeconds);
            }
        }

        var outside = elsewhere == 0 ? string.Empty : string.Create(CultureInfo.InvariantCulture, $", {elsewhere} outside any termination");
        if (offsets.Count == 0)
        {
            return $"none during a termination{outside}";
        }

        offsets.Sort();
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{offsets.Count} at SIGTERM + {offsets[0]:F2} to {offsets[^1]:F2} s (median {offsets[offsets.Count / 2]:F2} s){outside}");
    }
}

/// <summary>How one old replica left.</summary>
/// <param name="Port">The replica's loopback port.</param>
/// <param name="ExitedByItself">Whether it exited within the grace period, or was killed.</param>
/// <param name="SigTermToExit">From SIGTERM to the process's exit, or to SIGKILL for a killed one.</param>
/// <param name="ExitCode">The exit code; 137 or so for a killed one.</param>
internal sealed record Termination(int Port, bool ExitedByItself, TimeSpan SigTermToExit, int? ExitCode)
{
    /// <summary>Gets the end of what the replica printed, kept when it did not exit 0 by itself, to tell why.</summary>
    public string? OutputTail { get; init; }

    /// <summary>Gets how long after SIGTERM the balancer (or the consumer) stopped routing to the replica, if it was seen.</summary>
    public TimeSpan? RemovedAfter { get; init; }

    /// <summary>Gets the replica's own shutdown timeline log line, if it printed one.</summary>
    public string? ShutdownTimeline { get; init; }

    /// <summary>Gets when SIGTERM was sent, as a <see cref="Stopwatch.GetTimestamp"/> value.</summary>
    public long SignalledAt { get; init; }

    /// <summary>Gets when the replica exited (or was killed), as a <see cref="Stopwatch.GetTimestamp"/> value.</summary>
    public long ExitedAt => SignalledAt + (long)(SigTermToExit.TotalSeconds * Stopwatch.Frequency);

    public override string ToString() => (ExitedByItself
        ? string.Create(CultureInfo.InvariantCulture, $"replica :{Port} SIGTERM -> exit {SigTermToExit.TotalSeconds:F2} s (exit code {ExitCode})")
        : string.Create(CultureInfo.InvariantCulture, $"replica :{Port} SIGTERM -> SIGKILL after {SigTermToExit.TotalSeconds:F2} s (outlived the grace period)"))
        + (RemovedAfter is { } removed ? string.Create(CultureInfo.InvariantCulture, $", out of rotation after {removed.TotalSeconds:F2} s") : ", removal not seen");
}
