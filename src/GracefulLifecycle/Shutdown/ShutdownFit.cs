namespace GracefulLifecycle.Shutdown;

/// <summary>
/// Fits what is left of a shutdown (the delay, the drain, the margin) into the time left before a deadline the
/// platform gives. The margin never gives way: it is what makes the exit come before the kill. The delay gives way
/// first, down to its floor: requests that arrive after it are refused before any work starts, and clients retry
/// them, while a request the drain aborts has had work done. Then the drain. Below the floor plus the margin, the
/// delay takes what is left and the drain gets nothing.
/// </summary>
internal readonly record struct ShutdownFit(TimeSpan Delay, TimeSpan Drain, bool Compressed)
{
    /// <param name="untilDeadline">The time left before the deadline.</param>
    /// <param name="delay">The delay still to serve.</param>
    /// <param name="drain">The drain timeout.</param>
    /// <param name="margin">The margin kept before the deadline.</param>
    /// <param name="floor">The shortest delay a fit may leave; the planned delay when that is shorter.</param>
    public static ShutdownFit Fit(TimeSpan untilDeadline, TimeSpan delay, TimeSpan drain, TimeSpan margin, TimeSpan floor)
    {
        var available = untilDeadline - margin;
        if (delay + drain <= available)
        {
            return new(delay, drain, Compressed: false);
        }

        if (available <= TimeSpan.Zero)
        {
            return new(TimeSpan.Zero, TimeSpan.Zero, Compressed: true);
        }

        floor = floor < delay ? floor : delay;
        if (available <= floor)
        {
            return new(available, TimeSpan.Zero, Compressed: true);
        }

        var cutDelay = available - drain;
        cutDelay = cutDelay < floor ? floor : cutDelay;
        return new(cutDelay, available - cutDelay, Compressed: true);
    }
}
