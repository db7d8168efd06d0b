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

    public long Failures => Non2xx + ConnectErrors + ReadErrors + WriteErrors + Timeouts;

    public double FailureRate => Requests == 0 ? 0 : (double)Failures / Requests;

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"{Settings.Name,-16} rollouts {Settings.Rollouts}  requests {Requests,8}  failures {Failures,6} " +
        $"(non-2xx {Non2xx}, connect {ConnectErrors}, read {ReadErrors}, write {WriteErrors}, timeout {Timeouts})  " +
        $"rate {FailureRate:P3}  rollout {RolloutDuration.TotalSeconds:F1} s  killed {Killed}");
}
