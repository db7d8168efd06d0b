namespace GracefulLifecycle.Adaptive;

/// <summary>Why the serve-through delay after leaving ended.</summary>
internal enum DelayEnd
{
    /// <summary>No delay was served: the instance never became ready, so nobody was routed to it.</summary>
    None,

    /// <summary>The fixed shutdown delay was served in full.</summary>
    Elapsed,

    /// <summary>Adaptive: every peer that was sending had been quiet for its quiet period, after the floors.</summary>
    Quiet,

    /// <summary>Adaptive: the maximum (the shutdown delay) was reached before the traffic could be shown to have stopped.</summary>
    Maximum,

    /// <summary>A second signal cut the delay short.</summary>
    Signal,
}
