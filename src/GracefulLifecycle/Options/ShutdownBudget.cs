namespace GracefulLifecycle.Options;

/// <summary>The timing arithmetic shared by validation, host configuration and the startup log line.</summary>
internal static class ShutdownBudget
{
    /// <summary>
    /// The longest a shutdown may take from its start to the process exit: the delay (served inside the host's stop
    /// sequence when a stop is requested in code), the drain, and the exit margin.
    /// </summary>
    public static TimeSpan Total(GracefulLifecycleOptions options) =>
        options.ShutdownDelay + options.DrainTimeout + options.ShutdownMargin;
}
