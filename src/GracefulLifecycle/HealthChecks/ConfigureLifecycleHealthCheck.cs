using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.HealthChecks;

/// <summary>
/// Adds the lifecycle's health check, tagged with <see cref="GracefulLifecycleOptions.ReadinessTag"/> (read when the
/// health check options are first built, after configuration is bound), unless the application registered a check
/// under the same name itself.
/// </summary>
internal sealed class ConfigureLifecycleHealthCheck(IOptions<GracefulLifecycleOptions> options) : IConfigureOptions<HealthCheckServiceOptions>
{
    public void Configure(HealthCheckServiceOptions healthChecks)
    {
        if (healthChecks.Registrations.Any(r => r.Name == LifecycleHealthCheck.Name))
        {
            return;
        }

        healthChecks.Registrations.Add(new HealthCheckRegistration(
            LifecycleHealthCheck.Name,
            LifecycleHealthCheck.Factory,
            failureStatus: HealthStatus.Unhealthy,
            tags: [options.Value.ReadinessTag]));
    }
}
