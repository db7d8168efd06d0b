namespace GracefulLifecycle;

/// <summary>
/// What an instance does when a preStop call was accepted but no stop (SIGTERM, <c>StopApplication</c>) followed it
/// within the time the orchestrator would have had to send one: the termination grace period less the drain timeout
/// and the shutdown margin. The kubelet always follows its preStop hook with SIGTERM; a deploy script or a stray call
/// may not, and without a follow-up the instance would stay out of rotation for good while liveness passes.
/// </summary>
public enum PreStopFollowUpAction
{
    /// <summary>Stops the application as SIGTERM would (the delay is already served): drain, then exit 0.</summary>
    Stop = 0,

    /// <summary>
    /// Returns to service: registers again, readiness passes again and <see cref="IGracefulLifecycle.Leaving"/> becomes
    /// a new, uncancelled token (services deriving from <see cref="GracefulBackgroundService"/> run again). Only an
    /// instance that was ready when it started leaving, and whose drain has not begun, can rejoin; any other stops.
    /// </summary>
    Rejoin = 1,
}
