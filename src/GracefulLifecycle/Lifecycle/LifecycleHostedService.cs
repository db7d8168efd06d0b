using GracefulLifecycle.Diagnostics;
using GracefulLifecycle.Endpoints;
using GracefulLifecycle.Shutdown;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Lifecycle;

/// <summary>
/// Hooks the coordinator into the host: signals from the start, preload once the server listens, leaving and
/// the drain timer before any service stops, the end of the drain after all have.
/// </summary>
internal sealed class LifecycleHostedService(
    LifecycleCoordinator lifecycle,
    IHostApplicationLifetime hostLifetime,
    IOptions<GracefulLifecycleOptions> options,
    ShutdownPlan plan,
    IOptions<HostOptions> hostOptions,
    IServiceProvider services,
    ILogger<LifecycleHostedService> logger) : IHostedLifecycleService, IDisposable
{
    private SignalListener? _signals;
    private Task _startup = Task.CompletedTask;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        foreach (var (registry, propagation) in plan.PropagationDelays)
        {
            // Each term with the setting it comes from: what to change when a figure is wrong for these consumers.
            if (ReferenceEquals(propagation, plan.DelaySetByTerms))
            {
                Log.ShutdownDelayFromRegistry(logger, plan.ShutdownDelay, registry, propagation, plan.ConfiguredShutdownDelay);
            }
            else
            {
                Log.RegistryPropagationDelay(logger, registry, propagation.Total, propagation, plan.ShutdownDelay);
            }
        }

        Log.ShutdownBudget(
            logger, plan.DeregistrationTimeout, plan.ShutdownDelay, plan.DrainTimeout, plan.ShutdownMargin, plan.Total, plan.TerminationGracePeriod, hostOptions.Value.ShutdownTimeout);

        if (o.LivenessProbe.FailureWindow is { } window && window < plan.AfterDelay)
        {
            Log.LivenessWindowShorterThanDrain(logger, o.LivenessProbe.Period!.Value, o.LivenessProbe.FailureThreshold, window, plan.DrainTimeout, plan.ShutdownMargin);
        }

        if (plan.PreStopSleep > TimeSpan.Zero)
        {
            Log.PreStopSleepCounted(logger, plan.PreStopSleep, plan.DelayAfterPreStopSleep, plan.ShutdownDelay, plan.TerminationBudget, plan.TerminationGracePeriod);
        }

        if (o.PreStop.ManagementPort is { } port && o.PreStop.Token is null && o.PreStop.AllowedNetworks.Count == 0)
        {
            Log.PreStopPortOnly(logger, port);
        }

        if (services.GetService<IHostLifetime>() is Microsoft.Extensions.Hosting.Internal.ConsoleLifetime lifetime)
        {
            Log.ForeignHostLifetime(logger, lifetime.GetType().FullName!);
        }

        if (!o.HandleSignals)
        {
            Log.SignalsNotHandled(logger);
            return Task.CompletedTask;
        }

        var signals = SignalListener.TryListen(lifecycle);
        Interlocked.Exchange(ref _signals, signals)?.Dispose();
        if (signals is null)
        {
            Log.SignalsUnsupported(logger);
        }

        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        WarnIfManagementPortIsNotServed();

        // The endpoints are known once the server has built its pipeline, which it does when it starts. A collision
        // fails the start like an invalid option, before preload: the instance never reports ready.
        if (services.GetService<EndpointDataSource>() is { } endpoints && EndpointCollisions.Find(endpoints) is { Count: > 0 } collisions)
        {
            throw new OptionsValidationException(Microsoft.Extensions.Options.Options.DefaultName, typeof(GracefulLifecycleOptions), collisions);
        }

        // Started: an invalid option can no longer end the start (InvalidOptionsExit).
        InvalidOptionsExit.Disarm();

        // Preload runs in the background: the host finishes starting, and liveness answers while it runs.
        _startup = Task.Run(() => lifecycle.RunStartupAsync(hostLifetime.ApplicationStopping), CancellationToken.None);
        return Task.CompletedTask;
    }

    public Task StoppingAsync(CancellationToken cancellationToken) => lifecycle.OnHostStoppingAsync(cancellationToken);

    // Hosted services stop in reverse order of registration, so the workers added after the lifecycle have stopped by
    // now; this waits for the work begun anywhere else (BeginWork), bounded by the drain deadline.
    public Task StopAsync(CancellationToken cancellationToken) => lifecycle.WaitForWorkAsync(cancellationToken);

    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        lifecycle.OnHostStopped();
        Interlocked.Exchange(ref _signals, null)?.Dispose();
        try
        {
            await _startup.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // A preload task that ignores cancellation must not hold the process.
        }
    }

    public void Dispose() => Interlocked.Exchange(ref _signals, null)?.Dispose();

    private void WarnIfManagementPortIsNotServed()
    {
        if (options.Value.PreStop.ManagementPort is not { } port ||
            services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>() is not { } feature ||
            feature.Addresses.Count == 0)
        {
            return;
        }

        var served = feature.Addresses.Any(address =>
            BindingAddress.Parse(address).Port == port);
        if (!served)
        {
            Log.ManagementPortNotListening(logger, port, string.Join(", ", feature.Addresses));
        }
    }
}
