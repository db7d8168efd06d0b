using System.Globalization;

namespace GracefulLifecycle.Drill;

/// <summary>What wrk counted through a whole run: every non-2xx answer and every socket error is a failure.</summary>
internal sealed record DrillResult(
    DrillSettings Settings,
    long Requests,
    long Non2xx,
    long ConnectErrors,
    long ReadErrors,
    long WriteErrors,
    long Timeouts,
    TimeSpan RolloutDuration,
    IReadOnlyList<string> Timeline)
{
    /// <summary>Gets how many replicas had to be killed because they outlived the grace period.</summary>
    public int Killed { get; init; }

    /// <summary>Gets how each old replica left.</summary>
    public IReadOnlyList<Termination> Terminations { get; init; } = [];

    /// <summary>Gets, over the replicas whose removal was seen, the largest time from removal to exit (negative: exited first).</summary>
    public TimeSpan? LongestExitAfterRemoval =>
        Terminations.Where(t => t.RemovedAfter is not null).Select(t => (TimeSpan?)(t.SigTermToExit - t.RemovedAfter!.Value)).Max();

    /// <summary>Gets SIGTERM to exit over the replicas: smallest, median, largest, in seconds.</summary>
    public string ExitTimes => Spread(Terminations.Select(t => t.SigTermToExit));

    /// <summary>Gets SIGTERM to removal from rotation over the replicas whose removal was seen.</summary>
    public string RemovalTimes => Spread(Terminations.Where(t => t.RemovedAfter is not null).Select(t => t.RemovedAfter!.Value));

    private static string Spread(IEnumerable<TimeSpan> values)
    {
        var sorted = values.Select(v => v.TotalSeconds).Order().ToArray();
        return sorted.Length == 0 ? "-" : string.Create(CultureInfo.InvariantCulture, $"{sorted[0]:F2}-{sorted[^1]:F2} s (median {sorted[sorted.Length / 2]:F2})");
    }

    public long Failures => Non2xx + ConnectErrors + ReadErrors + WriteErrors + Timeouts;

    public double FailureRate => Requests == 0 ? 0 : (double)Failures / Requests;

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"{Settings.Name,-16} rollouts {Settings.Rollouts}  requests {Requests,8}  failures {Failures,6} " +
        $"(non-2xx {Non2xx}, connect {ConnectErrors}, read {ReadErrors}, write {WriteErrors}, timeout {Timeouts})  " +
        $"rate {FailureRate:P3}  rollout {RolloutDuration.TotalSeconds:F1} s  killed {Killed}") + Exits();

    private string Exits()
    {
        if (Terminations.Count == 0)
        {
            return string.Empty;
        }

        var gap = LongestExitAfterRemoval is { } g ? string.Create(CultureInfo.InvariantCulture, $"  exit-removal max {g.TotalSeconds:F2} s") : string.Empty;
        return $"  SIGTERM->exit {ExitTimes}  SIGTERM->out of rotation {RemovalTimes}{gap}";
    }
}
