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
}
