using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Validation;

/// <summary>Fails the options whose section writes a duration as a bare number (<see cref="DurationSyntax"/>).</summary>
/// <typeparam name="TOptions">The options bound from <paramref name="section"/>.</typeparam>
internal sealed class DurationSyntaxValidator<TOptions>(IConfiguration? configuration, string section) : IValidateOptions<TOptions>
    where TOptions : class
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        // The section is bound to the default instance only (SectionOptions).
        if (configuration is null || (name is not null && name != Microsoft.Extensions.Options.Options.DefaultName))
        {
            return ValidateOptionsResult.Skip;
        }

        var failures = DurationSyntax.Check(configuration.GetSection(section), typeof(TOptions));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
