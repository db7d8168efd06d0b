using GracefulLifecycle.Validation;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.DependencyInjection;

/// <summary>
/// Options set in code, then overridden by a configuration section, so operators can tune a deployment through
/// environment variables (<c>GracefulLifecycle__Etcd__LeaseTtl</c>) without a rebuild. Validated at startup,
/// where a duration written as a bare number fails (<see cref="DurationSyntax"/>).
/// </summary>
internal static class SectionOptions
{
    /// <param name="services">The service collection.</param>
    /// <param name="section">The configuration section.</param>
    /// <param name="configure">The values set in code.</param>
    /// <param name="beforeBind">Runs before the section is bound, e.g. to empty a list the section replaces (the binder appends).</param>
    public static OptionsBuilder<TOptions> Add<TOptions>(
        IServiceCollection services, string section, Action<TOptions>? configure, Action<TOptions, IConfigurationSection>? beforeBind = null)
        where TOptions : class
    {
        var builder = services.AddOptions<TOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        if (!services.Any(d => d.ServiceType == typeof(SectionBinding<TOptions>)))
        {
            services.AddSingleton(new SectionBinding<TOptions>());
            services.AddSingleton<IPostConfigureOptions<TOptions>>(sp => new PostConfigureOptions<TOptions>(
                Microsoft.Extensions.Options.Options.DefaultName,
                o =>
                {
                    if (sp.GetService<IConfiguration>()?.GetSection(section) is { } values)
                    {
                        beforeBind?.Invoke(o, values);
                        values.Bind(o);
                    }
                }));
            services.AddSingleton<IValidateOptions<TOptions>>(sp => new DurationSyntaxValidator<TOptions>(sp.GetService<IConfiguration>(), section));
            builder.ValidateOnStart();
        }

        return builder;
    }

    /// <summary>Marks that the section binding of <typeparamref name="TOptions"/> is registered.</summary>
    private sealed class SectionBinding<TOptions>;
}
