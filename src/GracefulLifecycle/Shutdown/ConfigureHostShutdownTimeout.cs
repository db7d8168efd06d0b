using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Shutdown;

/// <summary>
/// Gives the host's stop sequence room for the whole shutdown budget, so its own timeout never cuts the drain
/// short: the lifecycle bounds the drain itself and aborts what is left at the drain deadline. The value is the plan's
/// (<see cref="HostShutdownTimeout.AtStartup"/>): raised to the budget, never lowered.
/// </summary>
/// <remarks>
/// The plan is read when the host's options are built, not when this is constructed: the plan is computed from the
/// host's options as the application configured them (<see cref="Configured"/>), which builds them without this.
/// </remarks>
internal sealed class ConfigureHostShutdownTimeout(IServiceProvider services) : IPostConfigureOptions<HostOptions>
{
    public void PostConfigure(string? name, HostOptions hostOptions)
    {
        var host = services.GetRequiredService<ShutdownPlan>().Host;
        if (host.RaisedByLibrary && hostOptions.ShutdownTimeout < host.AtStartup)
        {
            hostOptions.ShutdownTimeout = host.AtStartup;
        }
    }

    /// <summary>
    /// Returns <c>HostOptions.ShutdownTimeout</c> as the application configured it: the host's options built by the
    /// framework's own factory from every configuration of them but this one.
    /// </summary>
    public static TimeSpan Configured(IServiceProvider services) =>
        new OptionsFactory<HostOptions>(
                services.GetServices<IConfigureOptions<HostOptions>>(),
                services.GetServices<IPostConfigureOptions<HostOptions>>().Where(p => p is not ConfigureHostShutdownTimeout))
            .Create(Microsoft.Extensions.Options.Options.DefaultName)
            .ShutdownTimeout;
}
