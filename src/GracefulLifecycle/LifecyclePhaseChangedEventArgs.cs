namespace GracefulLifecycle;

/// <summary>Describes a change of <see cref="IGracefulLifecycle.Phase"/>.</summary>
public sealed class LifecyclePhaseChangedEventArgs : EventArgs
{
    /// <summary>Initializes a new instance of the <see cref="LifecyclePhaseChangedEventArgs"/> class.</summary>
    /// <param name="previous">The phase that ended.</param>
    /// <param name="current">The phase that started.</param>
    /// <param name="previousDuration">How long the previous phase lasted.</param>
    public LifecyclePhaseChangedEventArgs(LifecyclePhase previous, LifecyclePhase current, TimeSpan previousDuration)
    {
        Previous = previous;
        Current = current;
        PreviousDuration = previousDuration;
    }

    /// <summary>Gets the phase that ended.</summary>
    public LifecyclePhase Previous { get; }

    /// <summary>Gets the phase that started.</summary>
    public LifecyclePhase Current { get; }

    /// <summary>Gets how long the previous phase lasted.</summary>
    public TimeSpan PreviousDuration { get; }
}
