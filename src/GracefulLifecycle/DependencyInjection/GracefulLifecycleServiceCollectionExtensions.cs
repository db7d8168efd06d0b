using GracefulLifecycle;
using GracefulLifecycle.Adaptive;
using GracefulLifecycle.DependencyInjection;
using GracefulLifecycle.Diagnostics;
using GracefulLifecycle.Draining;
using GracefulLifecycle.Endpoints;
using GracefulLifecycle.HealthChecks;
using GracefulLifecycle.Hosting;
using GracefulLifecycle.Lifecycle;
using GracefulLifecycle.Preload;
using GracefulLifecycle.Registration;
using GracefulLifecycle.Shutdown;
using GracefulLifecycle.Validation;
using GracefulLifecycle.Work;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the graceful lifecycle.</summary>
public static class GracefulLifecycleServiceCollectionExtensions
{
    /// <summary>
    /// Adds the graceful lifecycle: readiness gated by preload work, the shutdown sequence on SIGTERM, SIGINT,
    /// <c>/prestop</c> or <see cref="IGracefulLifecycle.LeaveAsync"/>, and the drain. Options bind from the
    /// <c>GracefulLifecycle</c> configuration section. Calling it again adds nothing but the new configure delegate.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns>A builder to add preload tasks and registries to.</returns>
    public static IGracefulLifecycleBuilder AddGracefulLifecycle(this IServiceCollection services) =>
        services.AddGracefulLifecycle(configure: null);

    /// <summary>
    /// Adds the graceful lifecycle with options set in code. Values in the <c>GracefulLifecycle</c> configuration
    /// section (appsettings, environment variables such as <c>GracefulLifecycle__ShutdownDelay</c>) override them,
    /// so operators can tune timings per environment without a rebuild.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options; may be <see langword="null"/>.</param>
    /// <returns>A builder to add preload tasks and registries to.</returns>
    public static IGracefulLifecycleBuilder AddGracefulLifecycle(this IServiceCollection services, Action<GracefulLifecycleOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(services);

        // An allowlist from configuration replaces the one set in code: narrowing it must not silently keep the old networks.
        SectionOptions.Add(services, GracefulLifecycleOptions.SectionName, configure, static (o, section) =>
        {
            if (section.GetSection("PreStop:AllowedNetworks").Exists())
            {
                o.PreStop.AllowedNetworks.Clear();
            }

            if (section.GetSection("AdaptiveDelay:ExcludedPaths").Exists())
            {
                o.AdaptiveDelay.ExcludedPaths.Clear();
            }
        });
        if (services.Any(d => d.ServiceType == typeof(LifecycleCoordinator)))
        {
            return new GracefulLifecycleBuilder(services);
        }

        // Invalid options end the start with exit code 1 and their messages, not with the runtime's abort (exit 134).
        InvalidOptionsExit.Arm();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GracefulLifecycleOptions>, GracefulLifecycleOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<HostOptions>, ConfigureHostShutdownTimeout>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GracefulLifecycleOptions>, AdaptiveDelayOptionsValidator>());

        services.AddHealthChecks();

        // The lifecycle's check is Unhealthy on purpose while preloading and leaving: answered without the Error line
        // ASP.NET Core logs for every Unhealthy result.
        PhaseAwareHealthCheckService.Decorate(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<HealthCheckServiceOptions>, ConfigureLifecycleHealthCheck>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<MatcherPolicy, LocalPortMatcherPolicy>());
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<RequestTracker>();
        services.TryAddSingleton<ConnectionTracker>();

        // First of all Kestrel configurations: endpoints the application's own ConfigureKestrel creates get the tracker too.
        services.Insert(0, ServiceDescriptor.Singleton<IConfigureOptions<KestrelServerOptions>, ConfigureKestrelConnections>());
        services.TryAddSingleton<WebSocketTracker>();
        services.TryAddSingleton<WorkTracker>();
        services.TryAddSingleton<LifecycleMetrics>();
        services.TryAddSingleton<ProbeRequests>();
        services.TryAddSingleton<TrafficMonitor>();
        services.TryAddSingleton<AdaptiveDelay>();
        services.TryAddSingleton<ShutdownTrace>();
        services.TryAddSingleton<ShutdownTimeline>();
        services.TryAddSingleton<PreloadRunner>();
        services.TryAddSingleton<RegistrySet>();
        services.TryAddSingleton<InstanceAddress>();
        services.TryAddSingleton(sp => ShutdownBudget.Plan(
            sp.GetRequiredService<IOptions<GracefulLifecycleOptions>>().Value,
            sp.GetServices<IServiceRegistry>(),
            ConfigureHostShutdownTimeout.Configured(sp)));
        services.TryAddSingleton(sp => new ShutdownTimings(sp.GetRequiredService<ShutdownPlan>()));
        services.TryAddSingleton<PreStopGate>();
        services.TryAddSingleton<PreStopFollowUp>();
        services.TryAddSingleton<IPreStopLeave>(sp => sp.GetRequiredService<PreStopFollowUp>());
        services.TryAddSingleton<PreStopRefusalLog>();
        services.TryAddSingleton<ProbeEndpoints>();
        services.TryAddSingleton(ProcessExitCode.Environment);
        services.TryAddSingleton<PhaseMachine>();
        services.TryAddSingleton<ILifecycleState>(sp => sp.GetRequiredService<PhaseMachine>());
        services.TryAddSingleton<HostStopper>();
        services.TryAddSingleton<StartupSequence>();
        services.TryAddSingleton<ShutdownDelayServer>();
        services.TryAddSingleton<ShutdownAdvisors>();
        services.TryAddSingleton<LeaveSequence>();
        services.TryAddSingleton<DrainTargets>();
        services.TryAddSingleton<DrainSequence>();
        services.TryAddSingleton<LifecycleCoordinator>();
        services.TryAddSingleton<IGracefulLifecycle>(sp => sp.GetRequiredService<LifecycleCoordinator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, LifecycleHostedService>());
        services.TryAddEnumerable(ServiceDescriptor.Transient<IStartupFilter, LifecycleStartupFilter>());
        ReplaceConsoleLifetime(services);

        return new GracefulLifecycleBuilder(services);
    }

    /// <summary>
    /// The console lifetime stops the host at the signal; the lifecycle stops it when the shutdown delay is over
    /// (<see cref="LifecycleHostLifetime"/>). Another lifetime (systemd, Windows service, a test host's) is left alone.
    /// </summary>
    private static void ReplaceConsoleLifetime(IServiceCollection services)
    {
        // On Windows the console lifetime blocks its SIGTERM handler until the host has stopped, because Windows ends
        // the process (console close, logoff, shutdown, docker stop) as soon as the handler returns: it stays there.
        if (!SignalListener.IsSupported || OperatingSystem.IsWindows())
        {
            return;
        }

        for (var i = services.Count - 1; i >= 0; i--)
        {
            if (services[i].ServiceType == typeof(IHostLifetime))
            {
                if (services[i].ImplementationType == typeof(Microsoft.Extensions.Hosting.Internal.ConsoleLifetime))
                {
                    services[i] = ServiceDescriptor.Singleton<IHostLifetime, LifecycleHostLifetime>();
                }

                return;
            }
        }
    }
}
