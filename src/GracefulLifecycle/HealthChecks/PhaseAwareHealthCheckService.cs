using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.HealthChecks;

/// <summary>
/// Runs the health checks as the registered <see cref="HealthCheckService"/> does, but answers the lifecycle's own check
/// itself. ASP.NET Core's <c>DefaultHealthCheckService</c> logs the end of every check at a level taken from its status
/// alone (event 103 <c>HealthCheckEnd</c>: Healthy at Debug, Degraded at Warning, Unhealthy at Error; see
/// dotnet/aspnetcore src/HealthChecks/HealthChecks/src/DefaultHealthCheckService.cs, <c>Log.HealthCheckEnd</c>). The
/// lifecycle is Unhealthy on purpose while preloading and while leaving, so every poll of Aspire's <c>/health</c>, of
/// any <c>MapHealthChecks</c> endpoint or of a gRPC health <c>Check</c> would log an Error on every start and every
/// rollout. Every other check still runs through the inner service and keeps its levels: a real failure stays an Error.
/// </summary>
internal sealed class PhaseAwareHealthCheckService(HealthCheckService inner, IOptions<HealthCheckServiceOptions> options, ILifecycleState lifecycle)
    : HealthCheckService
{
    public override async Task<HealthReport> CheckHealthAsync(Func<HealthCheckRegistration, bool>? predicate, CancellationToken cancellationToken = default)
    {
        var registrations = options.Value.Registrations;
        var ours = registrations.FirstOrDefault(LifecycleHealthCheck.IsRegistration);
        if (ours is null || (predicate is not null && !predicate(ours)))
        {
            return await inner.CheckHealthAsync(predicate, cancellationToken).ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
        var result = LifecycleHealthCheck.Evaluate(lifecycle.Phase);
        var others = await inner.CheckHealthAsync(r => !ReferenceEquals(r, ours) && (predicate is null || predicate(r)), cancellationToken)
            .ConfigureAwait(false);

        // In the order of the registrations, as the inner service reports them, under the same key comparison.
        var entries = new Dictionary<string, HealthReportEntry>(StringComparer.OrdinalIgnoreCase);
        foreach (var registration in registrations)
        {
            if (ReferenceEquals(registration, ours))
            {
                entries[ours.Name] = new HealthReportEntry(result.Status, result.Description, TimeSpan.Zero, result.Exception, result.Data, ours.Tags);
            }
            else if (others.Entries.TryGetValue(registration.Name, out var entry))
            {
                entries[registration.Name] = entry;
            }
        }

        return new HealthReport(entries, others.TotalDuration);
    }

    /// <summary>Wraps the <see cref="HealthCheckService"/> registered so far (<c>AddHealthChecks</c>'s default one), once.</summary>
    public static void Decorate(IServiceCollection services)
    {
        for (var i = services.Count - 1; i >= 0; i--)
        {
            var descriptor = services[i];
            if (descriptor.ServiceType != typeof(HealthCheckService) || descriptor.IsKeyedService)
            {
                continue;
            }

            if (descriptor.ImplementationFactory?.Target is Wrapper)
            {
                return;
            }

            services[i] = ServiceDescriptor.Describe(typeof(HealthCheckService), new Wrapper(descriptor).Create, descriptor.Lifetime);
            return;
        }
    }

    private sealed class Wrapper(ServiceDescriptor inner)
    {
        public PhaseAwareHealthCheckService Create(IServiceProvider services)
        {
            var service = inner.ImplementationInstance
                ?? inner.ImplementationFactory?.Invoke(services)
                ?? ActivatorUtilities.CreateInstance(services, inner.ImplementationType!);
            return new PhaseAwareHealthCheckService(
                (HealthCheckService)service,
                services.GetRequiredService<IOptions<HealthCheckServiceOptions>>(),
                services.GetRequiredService<ILifecycleState>());
        }
    }
}
