using System.Diagnostics.Metrics;

namespace GracefulLifecycle.Diagnostics;

/// <summary>The library's instruments, on the meter named after the package.</summary>
internal sealed class LifecycleMetrics
{
    public const string MeterName = "GracefulLifecycle";

    private readonly Counter<long> _abortedRequests;
    private readonly Counter<long> _refusedPreStops;
    private readonly UpDownCounter<long> _workInProgress;
    private readonly Histogram<double> _workDuration;
    private readonly Counter<long> _abandonedWork;
    private readonly Counter<long> _closedWebSockets;

    public LifecycleMetrics(IMeterFactory meterFactory, Draining.RequestTracker requests)
    {
        var meter = meterFactory.Create(MeterName);
        _abortedRequests = meter.CreateCounter<long>(
            "gracefullifecycle.drain.aborted_requests", "{request}", "Requests aborted because they outlasted the drain timeout.");
        _refusedPreStops = meter.CreateCounter<long>(
            "gracefullifecycle.prestop.refused", "{call}", "Calls to the preStop endpoint refused by its access checks.");
        meter.CreateObservableUpDownCounter(
            "gracefullifecycle.requests.in_flight", () => requests.InFlight, "{request}", "Requests being processed.");
        _workInProgress = meter.CreateUpDownCounter<long>(
            "gracefullifecycle.work.in_progress", "{work}", "Units of tracked work (BeginWork) in progress.");
        _workDuration = meter.CreateHistogram<double>(
            "gracefullifecycle.work.duration", "s", "How long units of tracked work took.");
        _abandonedWork = meter.CreateCounter<long>(
            "gracefullifecycle.drain.abandoned_work", "{work}", "Units of tracked work still running at the drain deadline.");
        _closedWebSockets = meter.CreateCounter<long>(
            "gracefullifecycle.drain.closed_websockets", "{connection}", "WebSockets the library closed with 1001 (Going Away) during the drain.");
        CreateTimelineInstruments(meter);
    }

    public void RequestsAborted(long count) => _abortedRequests.Add(count);

    public void PreStopRefused(int statusCode) =>
        _refusedPreStops.Add(1, new KeyValuePair<string, object?>("http.response.status_code", statusCode));

    public void WorkStarted() => _workInProgress.Add(1);

    public void WorkEnded(TimeSpan duration)
    {
        _workInProgress.Add(-1);
        _workDuration.Record(duration.TotalSeconds);
    }

    public void WorkAbandoned(long count) => _abandonedWork.Add(count);

    public void WebSocketsClosed(long count) => _closedWebSockets.Add(count);

    // The shutdown timeline: how the delay after leaving ended, and the traffic that still arrived after leaving.
    private Histogram<double>? _delayDuration;
    private Counter<long>? _requestsAfterLeaving;
    private Histogram<double>? _lastRequestAfterLeaving;

    public void ShutdownDelayEnded(Adaptive.DelayEnd reason, TimeSpan sinceLeaving) =>
        _delayDuration?.Record(sinceLeaving.TotalSeconds, new KeyValuePair<string, object?>("gracefullifecycle.delay.end", reason.ToString().ToLowerInvariant()));

    public void RequestsAfterLeaving(long count, TimeSpan? lastSinceLeaving)
    {
        _requestsAfterLeaving?.Add(count);
        if (lastSinceLeaving is { } last)
        {
            _lastRequestAfterLeaving?.Record(last.TotalSeconds);
        }
    }

    private void CreateTimelineInstruments(Meter meter)
    {
        _delayDuration = meter.CreateHistogram<double>(
            "gracefullifecycle.shutdown.delay", "s", "From leaving to the end of the delay after it, by why it ended (elapsed, quiet, maximum, signal, none).");
        _requestsAfterLeaving = meter.CreateCounter<long>(
            "gracefullifecycle.shutdown.requests_after_leaving", "{request}", "Requests (probes excepted) that arrived after leaving started.");
        _lastRequestAfterLeaving = meter.CreateHistogram<double>(
            "gracefullifecycle.shutdown.last_request_after_leaving", "s", "From leaving to the last request (probes excepted) that still arrived: the shortest fixed delay that would have lost nothing.");
    }
}
