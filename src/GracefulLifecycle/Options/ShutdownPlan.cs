namespace GracefulLifecycle.Options;

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
        foreach (var registry in registries)
        {
            HasRegistries = true;
            if (registry.PropagationDelay > ShutdownDelay)
            {
                ShutdownDelay = registry.PropagationDelay;
                DelaySetBy = registry.Name;
            }
        }

        DeregistrationTimeout = HasRegistries ? options.Registration.DeregistrationTimeout : TimeSpan.Zero;
        Total = DeregistrationTimeout + ShutdownDelay + options.DrainTimeout + options.ShutdownMargin;
    }

    public GracefulLifecycleOptions Options { get; }

    public bool HasRegistries { get; }

    /// <summary>Gets the delay served after leaving (and after deregistration).</summary>
    public TimeSpan ShutdownDelay { get; }

    /// <summary>Gets the registry whose propagation delay raised <see cref="ShutdownDelay"/>, if one did.</summary>
    public string? DelaySetBy { get; }

    public TimeSpan DeregistrationTimeout { get; }

    /// <summary>Gets the longest a shutdown may take from its start to the process exit.</summary>
    public TimeSpan Total { get; }

    /// <summary>
    /// Gets or sets whether <c>HostOptions.ShutdownTimeout</c> was raised to <see cref="Total"/> by the library, so that
    /// the coordinator may shorten it to what is left of the budget once the delay is served (a value the application
    /// set is never touched).
    /// </summary>
    public bool RaisedHostShutdownTimeout { get; set; }
}
