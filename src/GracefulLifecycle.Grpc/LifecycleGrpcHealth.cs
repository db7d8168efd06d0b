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
/// the shutdown delay: here every service is set to NOT_SERVING in the callback of the <c>Leaving</c> token, before
/// anything else of leaving happens, and evaluated once when the instance becomes ready.
/// </summary>
internal sealed class LifecycleGrpcHealth(
    IGracefulLifecycle lifecycle,
    HealthServiceImpl health,
    HealthCheckService healthChecks,
    IOptions<GrpcHealthChecksOptions> options,
    ILogger<LifecycleGrpcHealth> logger) : IHostedService, IDisposable
{
    private readonly Lock _gate = new();
    private CancellationTokenRegistration _leaving;
    private bool _left;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var services = options.Value.Services.ToList();
        foreach (var mapping in services)
        {
#pragma warning disable CS0618 // The obsolete predicate is only detected, to tell the application.
            if (mapping.HealthCheckPredicate is null && mapping.Predicate is not null)
#pragma warning restore CS0618
            {
                Log.ObsoleteMapping(logger, mapping.Name);
            }
        }

        // Until ready, nobody should send calls here: Watch and a cached Check say so from the start.
        SetAll(services, ServingStatus.NotServing);
        _leaving = lifecycle.Leaving.UnsafeRegister(static state => ((LifecycleGrpcHealth)state!).OnLeaving(), this);
        _ = lifecycle.Ready.ContinueWith(
            static (ready, state) => ((LifecycleGrpcHealth)state!).OnReadyAsync(),
            this,
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnRanToCompletion,
            TaskScheduler.Default).Unwrap();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _leaving.Dispose();

    private void OnLeaving()
    {
        var services = options.Value.Services.ToList();
        lock (_gate)
        {
            _left = true;
            SetAll(services, ServingStatus.NotServing);
        }

        Log.NotServing(logger, services.Count);
    }

    private async Task OnReadyAsync()
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

            // Leaving may have started while the checks ran: NOT_SERVING set then must stay.
            lock (_gate)
            {
                if (_left)
                {
                    return;
                }

                health.SetStatus(mapping.Name, status);
            }

            Log.Ready(logger, mapping.Name, status.ToString());
        }
    }

    private void SetAll(List<ServiceMapping> services, ServingStatus status)
    {
        foreach (var mapping in services)
        {
            health.SetStatus(mapping.Name, status);
        }
    }
}
