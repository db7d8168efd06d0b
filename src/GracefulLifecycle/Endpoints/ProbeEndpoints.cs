using GracefulLifecycle.Diagnostics;
using GracefulLifecycle.HealthChecks;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
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
    private readonly ILifecycleState _lifecycle;
    private readonly IPreStopLeave _preStop;
    private readonly HealthCheckService _healthChecks;
    private readonly PreStopGate _preStopGate;
    private readonly PreStopRefusalLog _refusals;
    private readonly ILogger _logger;
    private readonly Func<HealthCheckRegistration, bool> _isLivenessCheck;
    private readonly Func<HealthCheckRegistration, bool> _isReadinessCheck;
    private readonly bool _hasLivenessChecks;
    private readonly bool _hasReadinessChecks;

    public ProbeEndpoints(
        ILifecycleState lifecycle,
        IPreStopLeave preStop,
        HealthCheckService healthChecks,
        IOptions<HealthCheckServiceOptions> healthCheckOptions,
        PreStopGate preStopGate,
        PreStopRefusalLog refusals,
        IOptions<GracefulLifecycleOptions> options,
        ILogger<ProbeEndpoints> logger)
    {
        _lifecycle = lifecycle;
        _healthChecks = healthChecks;
        _preStopGate = preStopGate;
        _preStop = preStop;
        _refusals = refusals;
        _logger = logger;

        var liveTag = options.Value.LivenessTag;
        var readyTag = options.Value.ReadinessTag;
        // The lifecycle's own check says what the phase says, which readiness reads directly.
        _isLivenessCheck = r => r.Tags.Contains(liveTag) && r.Name != LifecycleHealthCheck.Name;
        _isReadinessCheck = r => r.Tags.Contains(readyTag) && r.Name != LifecycleHealthCheck.Name;

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

    /// <summary>
    /// A readiness handler that runs the checks <paramref name="custom"/> selects (all of them when its predicate is
    /// <see langword="null"/>, as <c>MapHealthChecks</c> does) and answers through its writer and status codes. The
    /// report always holds the lifecycle's own entry, and is Unhealthy unless the instance is Ready.
    /// </summary>
    public RequestDelegate Readiness(HealthCheckOptions custom)
    {
        var predicate = custom.Predicate;
        Func<HealthCheckRegistration, bool> selected = predicate is null
            ? static r => r.Name != LifecycleHealthCheck.Name
            : r => r.Name != LifecycleHealthCheck.Name && predicate(r);
        return async context =>
        {
            var report = await _healthChecks.CheckHealthAsync(selected, context.RequestAborted).ConfigureAwait(false);

            // Leaving may have started while the checks ran: the phase is read after them, and it wins.
            var phase = _lifecycle.Phase;
            var lifecycle = LifecycleHealthCheck.Evaluate(phase);
            var entries = new Dictionary<string, HealthReportEntry>(report.Entries, StringComparer.OrdinalIgnoreCase)
            {
                [LifecycleHealthCheck.Name] = new(lifecycle.Status, lifecycle.Description, TimeSpan.Zero, null, lifecycle.Data),
            };
            var status = phase == LifecyclePhase.Ready ? report.Status : HealthStatus.Unhealthy;
            var full = new HealthReport(entries, status, report.TotalDuration);

            if (!custom.ResultStatusCodes.TryGetValue(status, out var statusCode))
            {
                throw new InvalidOperationException(
                    $"No status code mapping found for {nameof(HealthStatus)} value: {status}. " +
                    $"{nameof(HealthCheckOptions)}.{nameof(HealthCheckOptions.ResultStatusCodes)} must contain an entry for {status}.");
            }

            context.Response.StatusCode = statusCode;
            if (!custom.AllowCachingResponses)
            {
                context.Response.Headers.CacheControl = "no-store, no-cache";
                context.Response.Headers.Pragma = "no-cache";
                context.Response.Headers.Expires = "Thu, 01 Jan 1970 00:00:00 GMT";
            }

            if (custom.ResponseWriter is { } writer && !HttpMethods.IsHead(context.Request.Method))
            {
                await writer(context, full).ConfigureAwait(false);
            }
        };
    }

    public async Task PreStopAsync(HttpContext context)
    {
        var decision = _preStopGate.Evaluate(context);
        if (!decision.IsAllowed)
        {
            _refusals.Refused(context, decision);
            await WriteAsync(context, decision.StatusCode, decision.StatusCode == 404 ? "NotFound" : "Forbidden", null).ConfigureAwait(false);
            return;
        }

        // The kubelet waits for this answer: answering after the delay is what holds SIGTERM back.
        // If the caller gives up, leaving goes on regardless.
        await _preStop.LeaveFromPreStopAsync(context.RequestAborted).ConfigureAwait(false);
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
