using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Validation;

/// <summary>
/// The per-field option checks every package shares, so a validator declares one line per key and keeps code only for
/// its cross-field rules. Each message names the full configuration key, the value and the fix.
/// </summary>
/// <remarks>
/// DataAnnotations with the source-generated <c>[OptionsValidator]</c> cannot say the value that was refused (a
/// <c>RangeAttribute</c> message formats only the name and the bounds), so the checks live here, compiled into every
/// package (linked like the registry transport) rather than exposed by the core.
/// </remarks>
internal sealed class OptionChecks(string prefix)
{
    /// <summary>
    /// The longest due time a timer accepts: <c>TimeProvider.CreateTimer</c>, <c>Task.Delay</c> and
    /// <c>new CancellationTokenSource(TimeSpan, TimeProvider)</c> all refuse more than <c>uint.MaxValue - 1</c> ms
    /// (about 49.7 days) with an exception at run time.
    /// </summary>
    public static readonly TimeSpan MaxTimer = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private readonly List<string> _failures = [];

    /// <summary>The configuration path every key is reported under, ending with ':'.</summary>
    public string Prefix { get; } = prefix;

    /// <summary>Whether a check has failed so far.</summary>
    public bool Failed => _failures.Count > 0;

    /// <summary>Adds a failure written by a cross-field rule.</summary>
    public void Fail(string message) => _failures.Add(message);

    /// <summary>A duration that must be greater than zero and fit a timer.</summary>
    public void Positive(string option, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            Fail($"{Prefix}{option} must be greater than zero (was {value}).");
        }

        TimerRange(option, value);
    }

    /// <summary>A duration that may be zero but not negative and must fit a timer; <paramref name="hint"/> ends the message.</summary>
    public void NotNegative(string option, TimeSpan value, string? hint = null)
    {
        if (value < TimeSpan.Zero)
        {
            Fail($"{Prefix}{option} must not be negative (was {value}){(hint is null ? null : "; " + hint)}.");
        }

        TimerRange(option, value);
    }

    /// <summary>A duration at least <paramref name="minimum"/> that must fit a timer.</summary>
    public void AtLeast(string option, TimeSpan value, TimeSpan minimum)
    {
        if (value < minimum)
        {
            Fail($"{Prefix}{option} must be at least {minimum} (was {value}).");
        }

        TimerRange(option, value);
    }

    /// <summary>A duration in a timer's range; beyond it the timer would throw at run time instead of here.</summary>
    public void TimerRange(string option, TimeSpan value)
    {
        if (value > MaxTimer)
        {
            Fail($"{Prefix}{option} must be at most {MaxTimer} (about 49.7 days, the longest timer .NET supports) (was {value}).");
        }
    }

    /// <summary>A whole number of <paramref name="unit"/> (milliseconds or seconds) in a timer's range.</summary>
    public void TimerRange(string option, int value, TimeSpan unit)
    {
        var max = (long)(MaxTimer.Ticks / unit.Ticks);
        if (value > max)
        {
            Fail($"{Prefix}{option} must be at most {max} (about 49.7 days, the longest timer .NET supports) (was {value}).");
        }
    }

    /// <summary>An optional TCP port.</summary>
    public void Port(string option, int? port)
    {
        if (port is { } p && (p < 1 || p > 65535))
        {
            Fail($"{Prefix}{option} must be a TCP port from 1 to 65535 (was {p}).");
        }
    }

    /// <summary>A required text.</summary>
    public void Text(string option, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            Fail($"{Prefix}{option} must not be empty.");
        }
    }

    /// <summary>An optional text that, when set, must not be blank; <paramref name="hint"/> says how to unset it.</summary>
    public void NullOrText(string option, string? value, string hint)
    {
        if (value is not null && string.IsNullOrWhiteSpace(value))
        {
            Fail($"{Prefix}{option} must not be blank; {hint}.");
        }
    }

    /// <summary>An enum value that names one of its members.</summary>
    public void OneOf<TEnum>(string option, TEnum value)
        where TEnum : struct, Enum
    {
        if (!Enum.IsDefined(value))
        {
            Fail($"{Prefix}{option} must be one of {string.Join(", ", Enum.GetNames<TEnum>())} (was {Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)}).");
        }
    }

    /// <summary>The outcome of every check.</summary>
    public ValidateOptionsResult Result() => _failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(_failures);
}
