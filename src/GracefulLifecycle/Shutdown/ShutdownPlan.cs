using Microsoft.Extensions.Hosting;

namespace GracefulLifecycle.Shutdown;

/// <summary>
/// The shutdown timings in force, computed once and never changed: the configured delay raised to the registries'
/// largest propagation delay, the deregistration bound, the drain, the exit margin, and what follows from them (the
/// totals, the host's shutdown timeout, the waits of the parts). Every part that needs a duration of the shutdown
/// reads it here, not from the options. Built by the container from the options and the registries
/// (<see cref="ShutdownBudget.Plan"/>), and by the options validator from the options alone.
/// </summary>
internal sealed class ShutdownPlan
{
    /// <param name="options">The validated options.</param>
    /// <param name="registries">The registries; their propagation delays are read once, here.</param>
    /// <param name="hostShutdownTimeout">
    /// <c>HostOptions.ShutdownTimeout</c> as the application configured it, before the library raised it; the host's
    /// default when not given.
    /// </param>
    public ShutdownPlan(GracefulLifecycleOptions options, IEnumerable<IServiceRegistry> registries, TimeSpan? hostShutdownTimeout = null)
    {
        Options = options;
        ConfiguredShutdownDelay = options.ShutdownDelay;
        DrainTimeout = options.DrainTimeout;
        ShutdownMargin = options.ShutdownMargin;
        WebSocketCloseDelay = options.WebSocketCloseDelay;
        TerminationGracePeriod = options.TerminationGracePeriod;
        PreStopSleep = options.PreStop.Sleep;

        // Read once: an adapter derives it from its options on each read.
        PropagationDelays = registries.Select(r => (r.Name, r.PropagationDelay)).ToArray();
        HasRegistries = PropagationDelays.Count > 0;
        var largest = TimeSpan.Zero;
        foreach (var (registry, delay) in PropagationDelays)
        {
            // The first registry with the largest delay is the one named: a tie does not change the delay.
            if (delay.Total > largest)
            {
                largest = delay.Total;
                LargestPropagationDelayOf = registry;
                LargestPropagationDelay = delay;
            }

            RegistrySideFloor = delay.RegistrySide > RegistrySideFloor.Delay ? (delay.RegistrySide, registry) : RegistrySideFloor;
        }

        var raised = largest > ConfiguredShutdownDelay;
        ShutdownDelay = raised ? largest : ConfiguredShutdownDelay;
        DelaySetBy = raised ? LargestPropagationDelayOf : null;
        DelaySetByTerms = raised ? LargestPropagationDelay : null;

        DeregistrationTimeout = HasRegistries ? options.Registration.DeregistrationTimeout : TimeSpan.Zero;
        InFlightCallTimeout = options.Registration.InFlightCallTimeout;
        DeregistrationCallBudget = options.Registration.DeregistrationTimeout - InFlightCallTimeout;
        AfterDelay = DrainTimeout + ShutdownMargin;
        Total = DeregistrationTimeout + ShutdownDelay + AfterDelay;
        LeaveBound = DeregistrationTimeout + ShutdownDelay + ShutdownMargin;
        AbortGrace = ShutdownMargin / 2;

        // The kubelet's preStop sleep happened before SIGTERM: load balancers had that time already, registries had
        // none of it (nobody told them yet).
        var rest = ConfiguredShutdownDelay > PreStopSleep ? ConfiguredShutdownDelay - PreStopSleep : TimeSpan.Zero;
        DelayAfterPreStopSleep = largest > rest ? largest : rest;
        TerminationBudget = PreStopSleep + DeregistrationTimeout + DelayAfterPreStopSleep + AfterDelay;

        // Validation keeps the delay, the drain and the margin within the grace period, so this is never shorter than the delay.
        var preStopWait = TerminationGracePeriod - AfterDelay;
        PreStopFollowUpWait = preStopWait > TimeSpan.Zero ? preStopWait : TimeSpan.Zero;

        Host = new HostShutdownTimeout(hostShutdownTimeout ?? new HostOptions().ShutdownTimeout, Total, AfterDelay);
    }

    /// <summary>Gets the options the plan was built from, for messages that name the configured values.</summary>
    public GracefulLifecycleOptions Options { get; }

    public bool HasRegistries { get; }

    /// <summary>Gets <see cref="GracefulLifecycleOptions.ShutdownDelay"/> as configured, before any registry raised it.</summary>
    public TimeSpan ConfiguredShutdownDelay { get; }

    /// <summary>Gets the delay served after leaving (and after deregistration).</summary>
    public TimeSpan ShutdownDelay { get; }

    /// <summary>Gets the registry whose propagation delay raised <see cref="ShutdownDelay"/>, if one did.</summary>
    public string? DelaySetBy { get; }

    /// <summary>Gets the terms of the propagation delay that raised <see cref="ShutdownDelay"/>, if one did.</summary>
    public PropagationDelay? DelaySetByTerms { get; }

    /// <summary>Gets each registry's propagation delay, by registry name, as read when the plan was built.</summary>
    public IReadOnlyList<(string Registry, PropagationDelay Delay)> PropagationDelays { get; }

    /// <summary>Gets the registry with the largest propagation delay, if any registry has one above zero.</summary>
    public string? LargestPropagationDelayOf { get; }

    /// <summary>Gets the largest propagation delay of the registries, if any is above zero.</summary>
    public PropagationDelay? LargestPropagationDelay { get; }

    /// <summary>
    /// Gets the largest registry-side part of the propagation delays (<see cref="PropagationDelay.RegistrySide"/>) and
    /// the registry it comes from: no traffic seen here can show it has passed, so the adaptive delay never ends before it.
    /// </summary>
    public (TimeSpan Delay, string? Registry) RegistrySideFloor { get; }

    /// <summary>Gets the longest leaving the registries may take (zero without registries).</summary>
    public TimeSpan DeregistrationTimeout { get; }

    /// <summary>Gets how long a registry call already in flight when leaving starts may take to land before it is canceled.</summary>
    public TimeSpan InFlightCallTimeout { get; }

    /// <summary>
    /// Gets the time a registry's deregistration call is given: the deregistration timeout less the wait for a call in
    /// flight. Passed to the registry with the call (<see cref="DeregistrationContext.Budget"/>).
    /// </summary>
    public TimeSpan DeregistrationCallBudget { get; }

    public TimeSpan DrainTimeout { get; }

    /// <summary>Gets the time kept after the drain deadline for the host to stop and the process to exit.</summary>
    public TimeSpan ShutdownMargin { get; }

    /// <summary>
    /// Gets how long, past the drain deadline, work whose <see cref="TrackedWork.Aborted"/> token has just fired may
    /// take to save what it can: half of <see cref="ShutdownMargin"/>, the rest being the host's.
    /// </summary>
    public TimeSpan AbortGrace { get; }

    public TimeSpan WebSocketCloseDelay { get; }

    public TimeSpan TerminationGracePeriod { get; }

    /// <summary>Gets what is left of the budget once the delay is served: the drain and the margin.</summary>
    public TimeSpan AfterDelay { get; }

    /// <summary>Gets the longest a shutdown may take from its start in the process to the process exit.</summary>
    public TimeSpan Total { get; }

    /// <summary>
    /// Gets the longest a leave can take (deregistration, the delay, the margin): a bound that only guards against a
    /// fault in it, so that a signal always ends in a stop within the budget.
    /// </summary>
    public TimeSpan LeaveBound { get; }

    /// <summary>Gets the kubelet's preStop sleep before SIGTERM (<see cref="PreStopOptions.Sleep"/>).</summary>
    public TimeSpan PreStopSleep { get; }

    /// <summary>
    /// Gets the delay served after SIGTERM: what the preStop sleep left of the configured delay, raised to the
    /// registries' propagation delay. <see cref="ShutdownDelay"/> when there is no preStop sleep.
    /// </summary>
    public TimeSpan DelayAfterPreStopSleep { get; }

    /// <summary>
    /// Gets the longest time from the start of termination (the start of the preStop hook) to the process exit, the
    /// figure that must fit in the grace period: the preStop sleep, then the shutdown after SIGTERM. Equal to
    /// <see cref="Total"/> without a preStop sleep.
    /// </summary>
    public TimeSpan TerminationBudget { get; }

    /// <summary>
    /// Gets how long after an accepted preStop call the instance waits for the host to start stopping: the moment the
    /// orchestrator would have had to send SIGTERM (the grace period less the drain and the margin).
    /// </summary>
    public TimeSpan PreStopFollowUpWait { get; }

    /// <summary>Gets the host's shutdown timeout: as configured, as the library sets it, and for a stop begun after the delay.</summary>
    public HostShutdownTimeout Host { get; }
}

/// <summary>
/// The host's <c>HostOptions.ShutdownTimeout</c>, which bounds its whole stop sequence counted from the moment that
/// sequence begins. The host reads it then, once (<c>Host.StopAsync</c>), and the application's run loop calls the stop
/// without a token of its own (<c>WaitForShutdownAsync</c> passes <see cref="CancellationToken.None"/>), so this
/// value is the only deadline the host's stop can be given.
/// </summary>
/// <param name="Configured">The value the application configured (or the host's default).</param>
/// <param name="Total">The shutdown budget (<see cref="ShutdownPlan.Total"/>).</param>
/// <param name="AfterDelayBudget">What is left of the budget once the delay is served (<see cref="ShutdownPlan.AfterDelay"/>).</param>
internal sealed record HostShutdownTimeout(TimeSpan Configured, TimeSpan Total, TimeSpan AfterDelayBudget)
{
    /// <summary>
    /// Gets whether the library raises the timeout: only when the configured value is below the budget. A larger value
    /// the application set (or the host's default of 30 seconds above a shorter budget) stays, since the application
    /// may have its own reasons to wait longer.
    /// </summary>
    public bool RaisedByLibrary => Configured < Total;

    /// <summary>
    /// Gets the timeout the host starts with: room for the whole budget, so a stop the host begins itself (the leave
    /// and the delay then run inside it) is never cut short.
    /// </summary>
    public TimeSpan AtStartup => RaisedByLibrary ? Total : Configured;

    /// <summary>
    /// Gets the timeout for a stop the lifecycle begins once the delay is served: the host counts it from then, so only
    /// the drain and the margin are left. A value the application set is never touched.
    /// </summary>
    public TimeSpan AfterDelay => RaisedByLibrary ? AfterDelayBudget : Configured;
}
