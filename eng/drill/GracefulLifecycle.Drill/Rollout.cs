using System.Globalization;

namespace GracefulLifecycle.Drill;

/// <summary>What the rollout itself did, whatever the load: how long it took and how each old replica left.</summary>
internal sealed record Rollout(TimeSpan Duration, IReadOnlyList<Termination> Terminations)
{
    /// <summary>Gets how many replicas had to be killed because they outlived the grace period.</summary>
    public int Killed => Terminations.Count(t => !t.ExitedByItself);

    /// <summary>Gets the longest time an old replica took from SIGTERM to exit (to SIGKILL for a killed one).</summary>
    public TimeSpan LongestExit => Terminations.Count == 0 ? TimeSpan.Zero : Terminations.Max(t => t.SigTermToExit);
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

    public override string ToString() => ExitedByItself
        ? string.Create(CultureInfo.InvariantCulture, $"replica :{Port} SIGTERM -> exit {SigTermToExit.TotalSeconds:F2} s (exit code {ExitCode})")
        : string.Create(CultureInfo.InvariantCulture, $"replica :{Port} SIGTERM -> SIGKILL after {SigTermToExit.TotalSeconds:F2} s (outlived the grace period)");
}
