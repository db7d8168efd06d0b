using GracefulLifecycle;
using GracefulLifecycle.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adapts GracefulLifecycle to a test host.</summary>
public static class GracefulLifecycleTestingServiceCollectionExtensions
{
    /// <summary>
    /// Makes the lifecycle fit a test host: no POSIX signal handlers (a signal is for the test runner), by default no
    /// shutdown delay, optionally a fake clock, and <c>/prestop</c> callable through <c>TestServer</c>. Call it from
    /// <c>ConfigureTestServices</c>, after the application's own registrations; it wins over their configuration.
    /// </summary>
    /// <param name="services">The test host's services.</param>
    /// <param name="configure">Sets the test options; may be <see langword="null"/>.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddGracefulLifecycleTesting(this IServiceCollection services, Action<GracefulLifecycleTestOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = new GracefulLifecycleTestOptions();
        configure?.Invoke(options);

        services.PostConfigure<GracefulLifecycleOptions>(o =>
        {
            o.HandleSignals = false;
            if (options.NoShutdownDelay)
            {
                o.ShutdownDelay = TimeSpan.Zero;
            }
        });

        if (options.TimeProvider is { } time)
        {
            services.RemoveAll<TimeProvider>();
            services.AddSingleton(time);
        }

        if (options.TestServerIsLoopback)
        {
            services.TryAddEnumerable(ServiceDescriptor.Transient<IStartupFilter, TestServerLoopbackStartupFilter>());
        }

        return services;
    }
}
