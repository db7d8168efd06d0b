using GracefulLifecycle.Diagnostics;
using GracefulLifecycle.Shutdown;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Adaptive;

/// <summary>
/// Serves the delay after leaving until the traffic has stopped: it ends at the latest of the minimum delay, the
/// registry-side part of the registries' propagation delays (<see cref="PropagationDelay.RegistrySide"/>), and the
/// moment every peer that was sending has been quiet for its quiet period; it never lasts longer than the maximum (the
/// shutdown delay in force, raised to the registries' whole propagation delays). It sleeps until the moment the peers
/// predict and checks again then, since a request that arrived meanwhile moves that moment on.
/// </summary>
internal sealed class AdaptiveDelay
{
    private readonly TrafficMonitor _traffic;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _floor;
    private readonly string? _floorSetBy;

    public AdaptiveDelay(TrafficMonitor traffic, IOptions<GracefulLifecycleOptions> options, ShutdownPlan plan, ILogger<AdaptiveDelay> logger)
    {
        _traffic = traffic;
        _time = traffic.Time;
        _logger = logger;
        _floor = options.Value.AdaptiveDelay.MinimumDelay;

        // Until the registry itself stops handing the instance out (Eureka's read-only cache), a consumer that has not
        // called yet may still fetch it and call: no traffic seen here can show otherwise, so that part is a floor.
        // The consumers' own refresh and load-balancer cache are not: a consumer that holds the instance calls it, and
        // its traffic stopping is the evidence that it has moved; one that never calls holds the delay to the maximum.
        if (plan.RegistrySideFloor is { Registry: { } registry } registrySide && registrySide.Delay > _floor)
        {
            _floor = registrySide.Delay;
            _floorSetBy = registry + " registry cache";
        }
    }

    public bool Enabled => _traffic.Enabled;

    /// <summary>Waits until the traffic has stopped, bounded by the floors and <paramref name="maximum"/>.</summary>
    /// <returns>Why the wait ended, and when it was due to (a timestamp): the caller's clock may read a little later.</returns>
    public async Task<(DelayEnd Reason, long At)> ServeAsync(TimeSpan maximum, CancellationToken skip)
    {
        var started = _time.GetTimestamp();
        var floor = _floor < maximum ? _floor : maximum;
        var floorAt = started + _traffic.ToTicks(floor);
        var maximumAt = started + _traffic.ToTicks(maximum);

        // A peer counts as too rare when its quiet period reaches the maximum, not only when it has no rate: it holds
        // the delay to the maximum either way, and the log must say which peers do.
        var horizon = maximumAt - started;
        var first = _traffic.WhenAllQuiet(horizon);
        Log.AdaptiveDelayStarted(_logger, floor, _floorSetBy ?? "MinimumDelay", maximum, first.Sending, first.TooRare);
        try
        {
            while (true)
            {
                // The clock first: a request arriving while the peers are read can only make the end later than now.
                var now = _time.GetTimestamp();
                var estimate = _traffic.WhenAllQuiet(horizon);
                var end = Math.Max(floorAt, estimate.QuietAt);
                if (end >= maximumAt)
                {
                    // A later request can only move the end further: nothing will end the wait before the maximum.
                    await WaitUntilAsync(maximumAt, now, skip).ConfigureAwait(false);
                    Log.AdaptiveDelayEnded(_logger, Elapsed(started, maximumAt), DelayEnd.Maximum, Describe(estimate));
                    return (DelayEnd.Maximum, maximumAt);
                }

                if (end <= now)
                {
                    Log.AdaptiveDelayEnded(_logger, Elapsed(started, end), DelayEnd.Quiet, Describe(estimate));
                    return (DelayEnd.Quiet, end);
                }

                await WaitUntilAsync(end, now, skip).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (skip.IsCancellationRequested)
        {
            var now = _time.GetTimestamp();
            Log.ShutdownDelaySkipped(_logger, Elapsed(started, now));
            return (DelayEnd.Signal, now);
        }
    }

    private Task WaitUntilAsync(long at, long now, CancellationToken skip) =>
        at <= now ? Task.CompletedTask : Task.Delay(_time.GetElapsedTime(now, at), _time, skip);

    private long Elapsed(long started, long ended) => Milliseconds(ended - started);

    private long Milliseconds(long ticks) => (long)TimeSpan.FromSeconds(ticks / (double)_time.TimestampFrequency).TotalMilliseconds;

    private string Describe(TrafficMonitor.Estimate estimate)
    {
        if (estimate.Sending == 0 && estimate.Newcomers == 0)
        {
            return "no traffic before leaving: nothing shows the routes have moved";
        }

        var text = $"{estimate.Sending} peers sending before leaving, {estimate.TooRare} too rarely to tell, {estimate.Newcomers} first seen after leaving, {estimate.AwaitingCheck} awaiting a readiness check";
        if (estimate.Latest is not { } peer)
        {
            return text;
        }

        var quiet = peer.QuietTicks is 0 or long.MaxValue ? "none" : $"{Milliseconds(peer.QuietTicks)} ms";
        var check = !peer.ChecksReadiness || peer.QuietTicks is 0 or long.MaxValue
            ? string.Empty
            : !peer.CheckConfirms ? ", its next readiness check awaited"
            : peer.LastArrival > peer.ConfirmingCheck ? $", its last request {Milliseconds(peer.LastArrival - peer.ConfirmingCheck)} ms after a failed readiness check"
            : ", then checked readiness with no request since";
        return $"{text}; last to go quiet: {peer.Address?.ToString() ?? "(other peers)"}, quiet period {quiet}, {peer.AfterLeaving} requests after leaving{check}";
    }
}
