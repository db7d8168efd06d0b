using System.Globalization;

namespace GracefulLifecycle.Consul;

/// <summary>Durations as Consul reads them: Go duration strings such as <c>2s</c>, <c>500ms</c> or <c>90s</c>.</summary>
internal static class GoDuration
{
    /// <summary>Formats in the largest unit that keeps the value exact: seconds, milliseconds, microseconds or nanoseconds.</summary>
    public static string Format(TimeSpan value)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
        var ticks = value.Ticks;
        return ticks switch
        {
            _ when ticks % TimeSpan.TicksPerSecond == 0 => Invariant(ticks / TimeSpan.TicksPerSecond, "s"),
            _ when ticks % TimeSpan.TicksPerMillisecond == 0 => Invariant(ticks / TimeSpan.TicksPerMillisecond, "ms"),
            _ when ticks % TimeSpan.TicksPerMicrosecond == 0 => Invariant(ticks / TimeSpan.TicksPerMicrosecond, "us"),
            _ => Invariant(ticks * TimeSpan.NanosecondsPerTick, "ns"),
        };
    }

    private static string Invariant(long amount, string unit) => amount.ToString(CultureInfo.InvariantCulture) + unit;
}
