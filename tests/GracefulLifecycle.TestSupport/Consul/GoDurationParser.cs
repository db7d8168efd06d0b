using System.Globalization;
using System.Text.Json;

namespace GracefulLifecycle.TestSupport.Consul;

/// <summary>
/// Reads durations as a Consul agent does: Go duration strings (<c>time.ParseDuration</c>: <c>1h2m3.5s</c>,
/// <c>500ms</c>, <c>10us</c>) or plain numbers of nanoseconds.
/// </summary>
public static class GoDurationParser
{
    private static readonly (string Unit, double Ticks)[] Units =
    [
        ("ns", 0.01),
        ("us", 10),
        ("µs", 10),
        ("μs", 10),
        ("ms", TimeSpan.TicksPerMillisecond),
        ("s", TimeSpan.TicksPerSecond),
        ("m", TimeSpan.TicksPerMinute),
        ("h", TimeSpan.TicksPerHour),
    ];

    /// <summary>Reads a duration from a JSON string (Go syntax) or number (nanoseconds).</summary>
    /// <param name="value">The JSON value.</param>
    /// <param name="duration">The duration read, or zero.</param>
    /// <returns><see langword="true"/> if <paramref name="value"/> is a valid duration.</returns>
    public static bool TryParse(JsonElement value, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        return value.ValueKind switch
        {
            JsonValueKind.Number when value.TryGetInt64(out var nanoseconds) => Set(TimeSpan.FromTicks(nanoseconds / 100), out duration),
            JsonValueKind.String => TryParse(value.GetString()!, out duration),
            _ => false,
        };
    }

    /// <summary>Reads a Go duration string, such as <c>1h2m3.5s</c>; <c>0</c> alone needs no unit.</summary>
    /// <param name="text">The duration string.</param>
    /// <param name="duration">The duration read, or zero.</param>
    /// <returns><see langword="true"/> if <paramref name="text"/> is a valid Go duration.</returns>
    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (text == "0")
        {
            return true;
        }

        var rest = text.AsSpan();
        var negative = false;
        if (rest.Length > 0 && rest[0] is '-' or '+')
        {
            negative = rest[0] == '-';
            rest = rest[1..];
        }

        if (rest.IsEmpty)
        {
            return false;
        }

        double ticks = 0;
        while (!rest.IsEmpty)
        {
            var numberLength = 0;
            while (numberLength < rest.Length && (char.IsAsciiDigit(rest[numberLength]) || rest[numberLength] == '.'))
            {
                numberLength++;
            }

            if (numberLength == 0 || !double.TryParse(rest[..numberLength], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
            {
                return false;
            }

            rest = rest[numberLength..];
            var unitLength = 0;
            while (unitLength < rest.Length && !char.IsAsciiDigit(rest[unitLength]) && rest[unitLength] != '.')
            {
                unitLength++;
            }

            var unit = rest[..unitLength].ToString();
            var match = Array.FindIndex(Units, u => u.Unit == unit);
            if (match < 0)
            {
                return false;
            }

            ticks += amount * Units[match].Ticks;
            rest = rest[unitLength..];
        }

        duration = TimeSpan.FromTicks((long)Math.Round(negative ? -ticks : ticks));
        return true;
    }

    private static bool Set(TimeSpan value, out TimeSpan duration)
    {
        duration = value;
        return true;
    }
}
