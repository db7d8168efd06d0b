using GracefulLifecycle.Shutdown;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Lifecycle;

/// <summary>Stops the host, and sets the process exit code when the stop is a failure.</summary>
internal sealed class HostStopper(
    IHostApplicationLifetime hostLifetime, ProcessExitCode exitCode, IOptions<HostOptions> hostOptions, ShutdownPlan plan, ShutdownAdvisors advisors)
{
    private readonly HostOptions _hostOptions = hostOptions.Value;

    /// <summary>Gets the host's <c>ApplicationStopping</c> token.</summary>
    public CancellationToken Stopping => hostLifetime.ApplicationStopping;

    /// <summary>Marks the run a failure: the process exits with code 1.</summary>
    public void Fail() => exitCode.Set(1);

    /// <summary>Stops the host at once, without a delay or a drain first: startup failed.</summary>
    public void StopNow() => hostLifetime.StopApplication();

    /// <summary>Starts the host's stop sequence once the delay is served and the drain has begun.</summary>
    public void StopAfterDelay()
    {
        // The host's timeout is counted from the start of its stop sequence, which now begins after the delay: what
        // is left of the budget is the drain and the margin. Only a value the library raised is shortened: one the
        // application set (or the host's default above the budget) stays.
        if (plan.RaisedHostShutdownTimeout && _hostOptions.ShutdownTimeout == plan.Total)
        {
            _hostOptions.ShutdownTimeout = advisors.DrainTimeout + plan.Options.ShutdownMargin;
        }

        hostLifetime.StopApplication();
    }
}
