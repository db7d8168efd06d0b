using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GracefulLifecycle.HealthChecks;

/// <summary>
/// The lifecycle as a health check: Healthy only while the instance is <see cref="LifecyclePhase.Ready"/>, Unhealthy
/// before (preloading, registering) and from the moment leaving starts. Registered by <c>AddGracefulLifecycle</c>
/// under <see cref="Name"/> and tagged with the readiness tag, so any health endpoint that runs all checks (Aspire's
/// <c>/health</c>, a <c>MapHealthChecks</c> of the application, a health check publisher) sees the instance leave.
/// It carries no liveness tag: an instance that is leaving is not broken and must not be restarted.
/// </summary>
internal sealed class LifecycleHealthCheck(ILifecycleState lifecycle) : IHealthCheck
{
    /// <summary>The registration name, also the key of its entry in a health report.</summary>
    public const string Name = GracefulLifecycleOptions.HealthCheckName;

    /// <summary>The key of the phase in the check's data.</summary>
    public const string PhaseKey = "phase";

    /// <summary>The factory of the registration <c>AddGracefulLifecycle</c> adds, which tells it from one the application added under the same name.</summary>
    public static readonly Func<IServiceProvider, IHealthCheck> Factory = static sp => new LifecycleHealthCheck(sp.GetRequiredService<ILifecycleState>());

    /// <summary>Gets a value indicating whether <paramref name="registration"/> is the one <c>AddGracefulLifecycle</c> added.</summary>
    public static bool IsRegistration(HealthCheckRegistration registration) => registration.Factory == Factory;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(Evaluate(lifecycle.Phase));

    public static HealthCheckResult Evaluate(LifecyclePhase phase)
    {
        var data = new Dictionary<string, object> { [PhaseKey] = phase.ToString() };
        return phase switch
        {
            LifecyclePhase.Ready => HealthCheckResult.Healthy("The instance is ready.", data),
            < LifecyclePhase.Ready => HealthCheckResult.Unhealthy($"The instance is not ready yet ({phase}).", data: data),
            _ => HealthCheckResult.Unhealthy($"The instance is shutting down ({phase}).", data: data),
        };
    }
}
