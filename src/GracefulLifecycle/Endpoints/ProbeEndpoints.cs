using GracefulLifecycle.Diagnostics;
using GracefulLifecycle.Lifecycle;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Endpoints;

/// <summary>
/// The request handlers of the liveness, readiness and preStop endpoints. Each answers JSON
/// <c>{"status":…,"phase":…}</c> and is never cached.
/// </summary>
internal sealed class ProbeEndpoints
{
    private readonly LifecycleCoordinator _lifecycle;
    private readonly HealthCheckService _healthChecks;
    private readonly PreStopGate _preStopGate;
    private readonly PreStopFollowUp _preStopFollowUp;
    private readonly LifecycleMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Func<HealthCheckRegistration, bool> _isLivenessCheck;
    private readonly Func<HealthCheckRegistration, bool> _isReadinessCheck;
    private readonly bool _hasLivenessChecks;
    private readonly bool _hasReadinessChecks;

    public ProbeEndpoints(
        LifecycleCoordinator lifecycle,
        HealthCheckService healthChecks,
        IOptions<HealthCheckServiceOptions> healthCheckOptions,
        PreStopGate preStopGate,
        PreStopFollowUp preStopFollowUp,
        LifecycleMetrics metrics,
        IOptions<GracefulLifecycleOptions> options,
        ILogger<ProbeEndpoints> logger)
    {
        _lifecycle = lifecycle;
        _healthChecks = healthChecks;
        _preStopGate = preStopGate;
        _preStopFollowUp = preStopFollowUp;
        _metrics = metrics;
        _logger = logger;

        var liveTag = options.Value.LivenessTag;
        var readyTag = options.Value.ReadinessTag;
        _isLivenessCheck = r => r.Tags.Contains(liveTag);
        _isReadinessCheck = r => r.Tags.Contains(readyTag);

        // Probes run often: skip the health check service entirely when no check carries the tag.
        var registrations = healthCheckOptions.Value.Registrations;
        _hasLivenessChecks = registrations.Any(_isLivenessCheck);
        _hasReadinessChecks = registrations.Any(_isReadinessCheck);
    }

    public async Task LivenessAsync(HttpContext context)
    {
        var status = _hasLivenessChecks
            ? (await _healthChecks.CheckHealthAsync(_isLivenessCheck, context.RequestAborted).ConfigureAwait(false)).Status
            : HealthStatus.Healthy;

        await WriteAsync(context, status == HealthStatus.Unhealthy ? 503 : 200, StatusText(status), _lifecycle.Phase).ConfigureAwait(false);
    }

    public async Task ReadinessAsync(HttpContext context)
    {
        var status = HealthStatus.Unhealthy;
        if (_lifecycle.Phase == LifecyclePhase.Ready)
        {
            status = _hasReadinessChecks
                ? (await _healthChecks.CheckHealthAsync(_isReadinessCheck, context.RequestAborted).ConfigureAwait(false)).Status
                : HealthStatus.Healthy;
        }

        // Leaving may have started while the checks ran; it wins.
        var phase = _lifecycle.Phase;
        if (phase != LifecyclePhase.Ready)
        {
            status = HealthStatus.Unhealthy;
        }

        await WriteAsync(context, status == HealthStatus.Unhealthy ? 503 : 200, StatusText(status), phase).ConfigureAwait(false);
    }

    public async Task PreStopAsync(HttpContext context)
    {
        var decision = _preStopGate.Evaluate(context);
        if (!decision.IsAllowed)
        {
            _metrics.PreStopRefused(decision.StatusCode);
            Log.PreStopRefused(
                _logger,
                context.Request.Method,
                context.Request.Path.Value ?? string.Empty,
                PreStopGate.DescribeCaller(context),
                context.Connection.LocalPort,
                decision.StatusCode,
                decision.Reason!);
            await WriteAsync(context, decision.StatusCode, decision.StatusCode == 404 ? "NotFound" : "Forbidden", null).ConfigureAwait(false);
            return;
        }

        _preStopFollowUp.Arm();

        // The kubelet waits for this answer: answering after the delay is what holds SIGTERM back.
        // If the caller gives up, leaving goes on regardless.
        await _lifecycle.LeaveFromPreStopAsync(context.RequestAborted).ConfigureAwait(false);
        await WriteAsync(context, 200, "ReadyToStop", _lifecycle.Phase).ConfigureAwait(false);
    }

    private static string StatusText(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => "Healthy",
        HealthStatus.Degraded => "Degraded",
        _ => "Unhealthy",
    };

    private static Task WriteAsync(HttpContext context, int statusCode, string status, LifecyclePhase? phase)
    {
        var response = context.Response;
        response.StatusCode = statusCode;
        response.ContentType = "application/json; charset=utf-8";
        response.Headers.CacheControl = "no-store, no-cache";
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return Task.CompletedTask;
        }

        var body = phase is { } p
            ? $$"""{"status":"{{status}}","phase":"{{p}}"}"""
            : $$"""{"status":"{{status}}"}""";
        return response.WriteAsync(body, context.RequestAborted);
    }
}
