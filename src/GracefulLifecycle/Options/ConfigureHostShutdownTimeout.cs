using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Options;

/// <summary>
/// Gives the host's stop sequence room for the whole shutdown budget, so its own timeout never cuts the drain
/// short: the lifecycle bounds the drain itself and aborts what is left at <see cref="GracefulLifecycleOptions.DrainTimeout"/>.
/// </summary>
internal sealed class ConfigureHostShutdownTimeout(ShutdownPlan plan) : IPostConfigureOptions<HostOptions>
{
    public void PostConfigure(string? name, HostOptions hostOptions)
    {
        hostOptions.ShutdownTimeout = plan.Total;
    }
}
