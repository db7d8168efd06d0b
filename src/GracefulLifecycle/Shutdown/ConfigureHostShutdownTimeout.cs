using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Shutdown;

/// <summary>
/// Gives the host's stop sequence room for the whole shutdown budget, so its own timeout never cuts the drain
/// short: the lifecycle bounds the drain itself and aborts what is left at <see cref="GracefulLifecycleOptions.DrainTimeout"/>.
/// The timeout is raised to the budget, never lowered: a larger value the application set (or the host's default of
/// 30 seconds above a shorter budget) stays, since the application may have its own reasons to wait longer.
/// </summary>
internal sealed class ConfigureHostShutdownTimeout(ShutdownPlan plan) : IPostConfigureOptions<HostOptions>
{
    public void PostConfigure(string? name, HostOptions hostOptions)
    {
        if (hostOptions.ShutdownTimeout < plan.Total)
        {
            hostOptions.ShutdownTimeout = plan.Total;
            plan.RaisedHostShutdownTimeout = true;
        }
    }
}
