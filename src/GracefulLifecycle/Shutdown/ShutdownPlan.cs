namespace GracefulLifecycle.Shutdown;

/// <summary>
/// The shutdown timings in force: the configured delay raised to the registries' largest propagation delay,
/// the deregistration bound, the drain and the exit margin. Shared by validation, host configuration, the startup
/// log line and the coordinator.
/// </summary>
internal sealed class ShutdownPlan
{
    public ShutdownPlan(GracefulLifecycleOptions options, IEnumerable<IServiceRegistry> registries)
    {
        Options = options;
        ShutdownDelay = options.ShutdownDelay;
        var propagation = TimeSpan.Zero;
        var delays = new List<(string, PropagationDelay)>();
        foreach (var registry in registries)
        {
            HasRegistries = true;

            // Read once: an adapter derives it from its options on each read.
            var delay = registry.PropagationDelay;
            delays.Add((registry.Name, delay));
            propagation = delay.Total > propagation ? delay.Total : propagation;
            if (delay.Total > ShutdownDelay)
            {
                ShutdownDelay = delay.Total;
                DelaySetBy = registry.Name;
                DelaySetByTerms = delay;
            }
        }

        PropagationDelays = delays;

        DeregistrationTimeout = HasRegistries ? options.Registration.DeregistrationTimeout : TimeSpan.Zero;
        Total = DeregistrationTimeout + ShutdownDelay + options.DrainTimeout + options.ShutdownMargin;

        // The kubelet's preStop sleep happened before SIGTERM: load balancers had that time already, registries had
        // none of it (nobody told them yet).
        PreStopSleep = options.PreStop.Sleep;
        var rest = options.ShutdownDelay > PreStopSleep ? options.ShutdownDelay - PreStopSleep : TimeSpan.Zero;
        DelayAfterPreStopSleep = propagation > rest ? propagation : rest;
        TerminationBudget = PreStopSleep + DeregistrationTimeout + DelayAfterPreStopSleep + options.DrainTimeout + options.ShutdownMargin;
    }

    public GracefulLifecycleOptions Options { get; }

    public bool HasRegistries { get; }

    /// <summary>Gets the delay served after leaving (and after deregistration).</summary>
    public TimeSpan ShutdownDelay { get; }

    /// <summary>Gets the registry whose propagation delay raised <see cref="ShutdownDelay"/>, if one did.</summary>
    public string? DelaySetBy { get; }

    /// <summary>Gets the terms of the propagation delay that raised <see cref="ShutdownDelay"/>, if one did.</summary>
    public PropagationDelay? DelaySetByTerms { get; }

    /// <summary>Gets each registry's propagation delay, by registry name, as read when the plan was built.</summary>
    public IReadOnlyList<(string Registry, PropagationDelay Delay)> PropagationDelays { get; }

    public TimeSpan DeregistrationTimeout { get; }

    /// <summary>Gets the longest a shutdown may take from its start in the process to the process exit.</summary>
    public TimeSpan Total { get; }

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
    /// Gets or sets whether <c>HostOptions.ShutdownTimeout</c> was raised to <see cref="Total"/> by the library, so that
    /// the coordinator may shorten it to what is left of the budget once the delay is served (a value the application
    /// set is never touched).
    /// </summary>
    public bool RaisedHostShutdownTimeout { get; set; }
}
