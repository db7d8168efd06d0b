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
        // The host counts its timeout from the start of its stop sequence, which now begins after the delay, and reads
        // it then: the one deadline its stop can be given (see HostShutdownTimeout). The plan says what is left (the
        // drain and the margin); a value the application set, or changed after the library, stays.
        if (_hostOptions.ShutdownTimeout == plan.Host.AtStartup)
        {
            _hostOptions.ShutdownTimeout = plan.Host.RaisedByLibrary ? advisors.DrainTimeout + plan.ShutdownMargin : plan.Host.AfterDelay;
        }

        hostLifetime.StopApplication();
    }
}
