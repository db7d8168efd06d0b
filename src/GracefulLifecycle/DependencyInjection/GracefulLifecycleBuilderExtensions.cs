using System.Diagnostics.CodeAnalysis;
using GracefulLifecycle;
using GracefulLifecycle.DependencyInjection;
using GracefulLifecycle.Preload;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds preload tasks, service registries and their options to the graceful lifecycle.</summary>
public static class GracefulLifecycleBuilderExtensions
{
    /// <summary>
    /// Adds a preload task that must complete before the instance reports ready. The task type is created from a
    /// service scope (it need not be registered).
    /// </summary>
    /// <typeparam name="TTask">The preload task.</typeparam>
    /// <param name="builder">The lifecycle builder.</param>
    /// <param name="timeout">The task's timeout; <see langword="null"/> for <see cref="GracefulLifecycleOptions.PreloadTimeout"/>.</param>
    /// <returns>The builder, for chaining.</returns>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "One overload is generic, the other takes a name and a delegate: no call can match both.")]
    public static IGracefulLifecycleBuilder AddPreload<TTask>(this IGracefulLifecycleBuilder builder, TimeSpan? timeout = null)
        where TTask : class, IPreloadTask =>
        builder.AddPreload(
            typeof(TTask).Name,
            static (services, cancellationToken) => ActivatorUtilities.GetServiceOrCreateInstance<TTask>(services).PreloadAsync(cancellationToken),
            timeout);

    /// <summary>Adds a preload task given as a delegate.</summary>
    /// <param name="builder">The lifecycle builder.</param>
    /// <param name="name">The name the task is logged under.</param>
    /// <param name="preload">The work; it receives a scoped service provider and a token that fires on timeout or shutdown.</param>
    /// <param name="timeout">The task's timeout; <see langword="null"/> for <see cref="GracefulLifecycleOptions.PreloadTimeout"/>.</param>
    /// <returns>The builder, for chaining.</returns>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "One overload is generic, the other takes a name and a delegate: no call can match both.")]
    public static IGracefulLifecycleBuilder AddPreload(
        this IGracefulLifecycleBuilder builder,
        string name,
        Func<IServiceProvider, CancellationToken, Task> preload,
        TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(preload);
        if (timeout is { } t && t <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), t, $"The timeout of preload task '{name}' must be greater than zero.");
        }

        builder.Services.AddSingleton(new PreloadRegistration(name, preload, timeout));
        return builder;
    }

    /// <summary>
    /// Adds a service registry the instance registers with after preload and leaves first at shutdown.
    /// Several registries may be added; adding the same type twice adds it once.
    /// </summary>
    /// <typeparam name="TRegistry">The registry.</typeparam>
    /// <param name="builder">The lifecycle builder.</param>
    /// <returns>The builder, for chaining.</returns>
    public static IGracefulLifecycleBuilder AddServiceRegistry<TRegistry>(this IGracefulLifecycleBuilder builder)
        where TRegistry : class, IServiceRegistry
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IServiceRegistry, TRegistry>());
        return builder;
    }

    /// <summary>
    /// Adds options for an add-on (a registry adapter, for example) the way the lifecycle's own are added: values set
    /// in <paramref name="configure"/>, then overridden by the configuration section <paramref name="sectionName"/>
    /// (appsettings, or environment variables such as <c>GracefulLifecycle__Eureka__ServiceUrl</c>) whatever the order
    /// of the calls, so operators can tune a deployment without a rebuild; validated at startup, where a
    /// <see cref="TimeSpan"/> property (of the options or of an option object nested in them) written as a bare number
    /// in the section, which would bind as days, fails naming its key. Calling it again adds only the new configure
    /// delegate.
    /// </summary>
    /// <typeparam name="TOptions">The options.</typeparam>
    /// <param name="builder">The lifecycle builder.</param>
    /// <param name="sectionName">The configuration section, such as <c>GracefulLifecycle:Eureka</c>.</param>
    /// <param name="configure">Sets the options in code; may be <see langword="null"/>.</param>
    /// <returns>The options builder, to add validation to.</returns>
    public static OptionsBuilder<TOptions> AddSectionOptions<TOptions>(
        this IGracefulLifecycleBuilder builder, string sectionName, Action<TOptions>? configure = null)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(sectionName);
        return SectionOptions.Add(builder.Services, sectionName, configure);
    }
}
