namespace GracefulLifecycle;

/// <summary>
/// What the lifecycle tells a registry with <see cref="IServiceRegistry.DeregisterAsync"/>: the time the call is
/// given. The call's cancellation token fires when that time is up; a registry that needs the figure itself (one that
/// tries several servers in turn and shares the time among them, so a first server that hangs does not use up the time
/// of the next) reads it here rather than from the lifecycle's options.
/// </summary>
public sealed class DeregistrationContext
{
    /// <summary>Initializes a new instance of the <see cref="DeregistrationContext"/> class.</summary>
    /// <param name="budget">The time the deregistration call is given.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="budget"/> is negative.</exception>
    public DeregistrationContext(TimeSpan budget)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(budget, TimeSpan.Zero);
        Budget = budget;
    }

    /// <summary>
    /// Gets the time the deregistration call is given: <see cref="RegistrationOptions.DeregistrationTimeout"/> less the
    /// wait for a call already in flight (<see cref="RegistrationOptions.InFlightCallTimeout"/>).
    /// </summary>
    public TimeSpan Budget { get; }
}
