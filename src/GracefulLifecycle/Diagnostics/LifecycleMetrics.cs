using System.Diagnostics.Metrics;

namespace GracefulLifecycle.Diagnostics;

/// <summary>The library's instruments, on the meter named after the package.</summary>
internal sealed class LifecycleMetrics
{
    public const string MeterName = "GracefulLifecycle";

    private readonly Counter<long> _abortedRequests;
    private readonly Counter<long> _refusedPreStops;

    public LifecycleMetrics(IMeterFactory meterFactory, Draining.RequestTracker requests)
    {
        var meter = meterFactory.Create(MeterName);
        _abortedRequests = meter.CreateCounter<long>(
            "gracefullifecycle.drain.aborted_requests", "{request}", "Requests aborted because they outlasted the drain timeout.");
        _refusedPreStops = meter.CreateCounter<long>(
            "gracefullifecycle.prestop.refused", "{call}", "Calls to the preStop endpoint refused by its access checks.");
        meter.CreateObservableUpDownCounter(
            "gracefullifecycle.requests.in_flight", () => requests.InFlight, "{request}", "Requests being processed.");
    }

    public void RequestsAborted(long count) => _abortedRequests.Add(count);

    public void PreStopRefused(int statusCode) =>
        _refusedPreStops.Add(1, new KeyValuePair<string, object?>("http.response.status_code", statusCode));
}
