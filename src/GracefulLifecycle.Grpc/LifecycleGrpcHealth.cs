using Grpc.AspNetCore.HealthChecks;
using Grpc.Health.V1;
using Grpc.HealthCheck;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace GracefulLifecycle.Grpc;

/// <summary>
/// Pushes the lifecycle into the statuses <c>grpc.health.v1.Health</c> serves from <see cref="HealthServiceImpl"/>, which
/// <c>Watch</c> streams and a cached <c>Check</c> answers. Grpc.AspNetCore.HealthChecks refreshes them only when the
/// health check publisher runs (every 30 s by default), far too late for a load balancer to stop sending calls during
/// the shutdown delay: here every service is set to NOT_SERVING as the phase leaves Ready (leaving, or a rejoin that
/// registers again), and evaluated once each time the instance becomes Ready.
/// </summary>
internal sealed class LifecycleGrpcHealth(
    IGracefulLifecycle lifecycle,
    HealthServiceImpl health,
    HealthCheckService healthChecks,
    IOptions<GrpcHealthChecksOptions> options,
    ILogger<LifecycleGrpcHealth> logger) : IHostedService, IDisposable
{
    private readonly Lock _gate = new();

    // Changes with every phase change: an evaluation started while Ready applies only if nothing changed meanwhile.
    private long _generation;
    private int _subscribed;

    // Whether NOT_SERVING is set for the phase now: leaving passes through Leaving, Draining and Stopped (and a rejoin
    // through Registering); it is set and logged once per stretch away from Ready.
    private bool _notServing;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var mapping in options.Value.Services)
        {
#pragma warning disable CS0618 // The obsolete predicate is only detected, to tell the application.
            if (mapping.HealthCheckPredicate is null && mapping.Predicate is not null)
#pragma warning restore CS0618
            {
                Log.ObsoleteMapping(logger, mapping.Name);
            }
        }

        if (Interlocked.Exchange(ref _subscribed, 1) == 0)
        {
            lifecycle.PhaseChanged += OnPhaseChanged;
        }

        // Until ready, nobody should send calls here: Watch and a cached Check say so from the start.
        OnPhase(lifecycle.Phase);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _subscribed, 0) == 1)
        {
            lifecycle.PhaseChanged -= OnPhaseChanged;
        }
    }

    private void OnPhaseChanged(object? sender, LifecyclePhaseChangedEventArgs e) => OnPhase(e.Current);

    private void OnPhase(LifecyclePhase phase)
    {
        long generation;
        lock (_gate)
        {
            generation = ++_generation;
            if (phase != LifecyclePhase.Ready)
            {
                if (_notServing)
                {
                    return;
                }

                _notServing = true;

                // Set here, on the thread that publishes the phase change: no health check runs before it.
                var services = options.Value.Services.ToList();
                foreach (var mapping in services)
                {
                    health.SetStatus(mapping.Name, ServingStatus.NotServing);
                }

                if (phase > LifecyclePhase.Ready)
                {
                    Log.NotServing(logger, services.Count);
                }

                return;
            }

            _notServing = false;
        }

        _ = Task.Run(() => OnReadyAsync(generation));
    }

    private async Task OnReadyAsync(long generation)
    {
        foreach (var mapping in options.Value.Services)
        {
            if (mapping.HealthCheckPredicate is not { } filter)
            {
                continue;
            }

            ServingStatus status;
            try
            {
                var report = await healthChecks.CheckHealthAsync(r => filter(new HealthCheckMapContext(r.Name, r.Tags))).ConfigureAwait(false);
                status = report.Entries.Count == 0 ? ServingStatus.Unknown
                    : report.Entries.Values.Any(e => e.Status == HealthStatus.Unhealthy) ? ServingStatus.NotServing
                    : ServingStatus.Serving;
            }
            catch (Exception ex)
            {
                Log.CheckFailed(logger, mapping.Name, ex);
                continue;
            }

            // Leaving may have started while the checks ran: the NOT_SERVING it set must stay.
            lock (_gate)
            {
                if (_generation != generation)
                {
                    return;
                }

                health.SetStatus(mapping.Name, status);
            }

            Log.Ready(logger, mapping.Name, status.ToString());
        }
    }
}
