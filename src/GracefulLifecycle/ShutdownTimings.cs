using GracefulLifecycle.Shutdown;

namespace GracefulLifecycle;

/// <summary>
/// The shutdown timings in force, as the lifecycle computed them at startup from its options and the registries'
/// propagation delays: a read-only copy for add-ons that hold them against the platform's own settings (the
/// <c>GracefulLifecycle.Kubernetes</c> package compares them with the pod spec). Resolve it from the container once
/// the options are valid; resolving it validates the budget like the host's start does.
/// </summary>
public sealed class ShutdownTimings
{
    internal ShutdownTimings(ShutdownPlan plan)
    {
        ShutdownDelay = plan.ShutdownDelay;
        DelayAfterPreStopSleep = plan.DelayAfterPreStopSleep;
        DeregistrationTimeout = plan.DeregistrationTimeout;
        DrainTimeout = plan.DrainTimeout;
        ShutdownMargin = plan.ShutdownMargin;
        PreStopSleep = plan.PreStopSleep;
        Total = plan.Total;
        TerminationBudget = plan.TerminationBudget;
        TerminationGracePeriod = plan.TerminationGracePeriod;
    }

    /// <summary>Gets the delay served after leaving: <see cref="GracefulLifecycleOptions.ShutdownDelay"/> raised to the registries' largest propagation delay.</summary>
    public TimeSpan ShutdownDelay { get; }

    /// <summary>Gets the delay served after SIGTERM when the kubelet's preStop sleep came first (<see cref="ShutdownDelay"/> without one).</summary>
    public TimeSpan DelayAfterPreStopSleep { get; }

    /// <summary>Gets the bound on deregistration before the delay (zero without registries).</summary>
    public TimeSpan DeregistrationTimeout { get; }

    /// <summary>Gets <see cref="GracefulLifecycleOptions.DrainTimeout"/>.</summary>
    public TimeSpan DrainTimeout { get; }

    /// <summary>Gets <see cref="GracefulLifecycleOptions.ShutdownMargin"/>.</summary>
    public TimeSpan ShutdownMargin { get; }

    /// <summary>Gets <see cref="PreStopOptions.Sleep"/>, the kubelet's preStop sleep the budget counts.</summary>
    public TimeSpan PreStopSleep { get; }

    /// <summary>Gets the longest a shutdown may take from its start in the process to the process exit.</summary>
    public TimeSpan Total { get; }

    /// <summary>
    /// Gets the longest time from the start of termination (the start of the preStop hook) to the process exit: the
    /// figure that must fit in the grace period.
    /// </summary>
    public TimeSpan TerminationBudget { get; }

    /// <summary>Gets <see cref="GracefulLifecycleOptions.TerminationGracePeriod"/>, the grace period the options declare.</summary>
    public TimeSpan TerminationGracePeriod { get; }
}
