using GracefulLifecycle.Diagnostics;
using GracefulLifecycle.Preload;
using GracefulLifecycle.Registration;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Lifecycle;

/// <summary>Runs after the server has started: preload, registration, then ready; a failure stops the host.</summary>
internal sealed class StartupSequence(
    PhaseMachine phases,
    TimeProvider time,
    PreloadRunner preloader,
    RegistrySet registries,
    LifecycleMetrics metrics,
    HostStopper host,
    ILogger<LifecycleCoordinator> logger)
{
    /// <summary>Never throws.</summary>
    /// <param name="leaving">The Leaving token: a leave during startup cancels it.</param>
    /// <param name="hostStopping">The host's stop token.</param>
    public async Task RunAsync(CancellationToken leaving, CancellationToken hostStopping)
    {
        if (!phases.Advance(LifecyclePhase.Preloading))
        {
            return;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(leaving, hostStopping);
        var preloadStarted = time.GetTimestamp();
        PreloadOutcome outcome;
        try
        {
            outcome = await preloader.RunAsync(stop.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.PreloadTaskFailed(logger, "(preload runner)", 0, ex);
            outcome = PreloadOutcome.Failed;
        }

        metrics.PreloadEnded(time.GetElapsedTime(preloadStarted), outcome switch
        {
            PreloadOutcome.Succeeded => "succeeded",
            PreloadOutcome.Canceled => "canceled",
            _ => "failed",
        });

        switch (outcome)
        {
            case PreloadOutcome.Succeeded:
                if (await RegisterAsync(stop.Token).ConfigureAwait(false))
                {
                    phases.BecomeReady();
                }

                break;

            case PreloadOutcome.Canceled:
                Log.PreloadCanceled(logger);
                phases.ReadyCanceled(stop.Token);
                break;

            default:
                host.Fail();
                phases.ReadyFailed(new InvalidOperationException("A preload task failed or timed out; the instance never became ready."));
                host.StopNow();
                break;
        }
    }

    /// <summary>Registers with the service registries, if any; false when shutdown started first.</summary>
    private async Task<bool> RegisterAsync(CancellationToken cancellationToken)
    {
        if (registries.IsEmpty)
        {
            return true;
        }

        if (!phases.Advance(LifecyclePhase.Registering))
        {
            return false;
        }

        var started = time.GetTimestamp();
        try
        {
            await registries.RegisterAsync(cancellationToken).ConfigureAwait(false);
            metrics.RegistrationEnded(time.GetElapsedTime(started), "succeeded");
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            metrics.RegistrationEnded(time.GetElapsedTime(started), "canceled");
            phases.ReadyCanceled(cancellationToken);
            return false;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            metrics.RegistrationEnded(time.GetElapsedTime(started), "failed");
            // A registry misconfigured (logged by its session): fail fast like a failed preload.
            host.Fail();
            phases.ReadyFailed(new InvalidOperationException("A service registry cannot work as configured; the instance never became ready.", ex));
            host.StopNow();
            return false;
        }
    }
}
