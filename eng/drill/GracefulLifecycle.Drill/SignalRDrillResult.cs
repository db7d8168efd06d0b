using System.Globalization;

namespace GracefulLifecycle.Drill;

/// <summary>What the SignalR clients counted through a rollout, and how the old replicas left.</summary>
internal sealed record SignalRDrillResult(DrillSettings Settings, SignalRCounts Counts, Rollout Rollout)
{
    public long Failed => Counts.Failed;

    public long FirstTryFailures => Counts.FirstTryFailures;

    public long AbnormalLosses => Counts.AbnormalLosses;

    public int Killed => Rollout.Killed;

    public int Crashed => Rollout.Crashed;

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"{Settings.Name,-16} rollouts {Settings.Rollouts}  replicas {Settings.Replicas}  clients {Counts.Clients}  invocations {Counts.Invocations}  " +
        $"failed {Counts.Failed} (after the retry)  answered {Counts.Answered + Counts.AnsweredOnRetry} (first try {Counts.Answered}, on the retry {Counts.AnsweredOnRetry})  " +
        $"reconnects {Counts.Reconnecting} (reconnected {Counts.Reconnected})  closes {Counts.Closes} (restarted {Counts.Restarts})  " +
        $"connections lost abnormally {Counts.AbnormalLosses}  " +
        $"rollout {Rollout.Duration.TotalSeconds:F1} s  longest SIGTERM->exit {Rollout.LongestExit.TotalSeconds:F1} s  killed {Killed}  exit not 0 {Crashed}  " +
        $"connections lost {Rollout.DescribeEnds(Counts.Losses)}");
}
