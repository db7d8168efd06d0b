using System.Globalization;

namespace GracefulLifecycle.Drill;

/// <summary>What the WebSocket clients counted through a rollout, and how the old replicas left.</summary>
internal sealed record WebSocketDrillResult(DrillSettings Settings, WebSocketCounts Counts, Rollout Rollout)
{
    public long Lost => Counts.Lost;

    public long Abnormal => Counts.Abnormal;

    public int Killed => Rollout.Killed;

    public int Crashed => Rollout.Crashed;

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"{Settings.Name,-16} rollouts {Settings.Rollouts}  clients {Counts.Clients}  connections {Counts.Connections} (failed connects {Counts.ConnectErrors})  " +
        $"messages sent {Counts.Sent} echoed {Counts.Echoed} lost {Counts.Lost} (re-sent {Counts.Resent}, duplicate echoes {Counts.Duplicates})  " +
        $"closes 1000: {Counts.Normal}, 1001: {Counts.GoingAway}, other: {Counts.OtherStatus}, abnormal (1006): {Counts.Abnormal}  " +
        $"rollout {Rollout.Duration.TotalSeconds:F1} s  longest SIGTERM->exit {Rollout.LongestExit.TotalSeconds:F1} s  killed {Killed}  exit not 0 {Crashed}  " +
        $"[{string.Join(", ", Counts.Kinds.Select(k => $"{k.Key}: {k.Value}"))}]  connections closed {Rollout.DescribeEnds(Counts.Ends)}");
}
