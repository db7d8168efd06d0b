using System.Collections;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace GracefulLifecycle.Validation;

/// <summary>
/// Refuses a bare number for a duration: the binder reads <c>LeaseTtl=10</c> as <see cref="TimeSpan.Parse(string)"/>
/// does, as 10 <em>days</em>, so an operator who meant seconds gets a lease, a timeout or a quiet period thousands of
/// times too long and no error. The check reads the raw strings of the section, since the bound value alone cannot tell
/// <c>10</c> from <c>10.00:00:00</c>.
/// </summary>
/// <remarks>
/// It walks the options type: every <see cref="TimeSpan"/> and <see cref="Nullable{TimeSpan}"/> property, and those of
/// nested option objects (<c>PreStop</c>, <c>Registration</c>, <c>AdaptiveDelay</c>). Every options type added through
/// <see cref="DependencyInjection.SectionOptions"/> gets it, the lifecycle's own, each registry adapter's and any add-on's.
/// </remarks>
internal static class DurationSyntax
{
    // Option objects nest a level or two; the bound only stops a type that refers to itself.
    private const int MaxDepth = 8;

    /// <summary>Gets one message per duration under <paramref name="section"/> written as a bare number.</summary>
    public static List<string> Check(IConfigurationSection section, Type optionsType)
    {
        var failures = new List<string>();
        Walk(section, optionsType, 0, failures);
        return failures;
    }

    /// <summary>Gets a value indicating whether <paramref name="value"/> binds to a duration as a whole number of days.</summary>
    public static bool IsBareNumber(string value, out TimeSpan parsed)
    {
        // Every form with hours has a colon; without one, TimeSpan reads the number as days ("10", "-1", " 30 ").
        parsed = default;
        return !value.Contains(':', StringComparison.Ordinal) && TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out parsed);
    }

    private static void Walk(IConfigurationSection section, Type type, int depth, List<string> failures)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0)
            {
                continue;
            }

            var key = property.GetCustomAttribute<ConfigurationKeyNameAttribute>()?.Name ?? property.Name;
            var value = section.GetSection(key);
            var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (propertyType == typeof(TimeSpan))
            {
                if (value.Value is { } raw && IsBareNumber(raw, out var parsed))
                {
                    failures.Add(
                        $"{value.Path} ('{raw}') is a bare number, which binds as {parsed.TotalDays.ToString(CultureInfo.InvariantCulture)} {(parsed.TotalDays is 1 or -1 ? "day" : "days")}: " +
                        "write a duration as hh:mm:ss, such as 00:00:10 for 10 seconds (or d.hh:mm:ss, such as 10.00:00:00, if days are meant).");
                }
            }
            else if (depth < MaxDepth && IsOptionsObject(propertyType) && value.Exists())
            {
                Walk(value, propertyType, depth + 1, failures);
            }
        }
    }

    private static bool IsOptionsObject(Type type) =>
        type.IsClass && type != typeof(string) && !typeof(IEnumerable).IsAssignableFrom(type) &&
        type.Namespace?.StartsWith("System", StringComparison.Ordinal) != true &&
        type.Namespace?.StartsWith("Microsoft", StringComparison.Ordinal) != true;
}
