using System.Diagnostics.Metrics;

namespace GracefulLifecycle.Diagnostics;

/// <summary>
/// The library's instruments, on the meter named after the package. Names follow the OpenTelemetry semantic
/// conventions: lowercase dotted names under <c>gracefullifecycle.</c>, durations as histograms in seconds (<c>s</c>),
/// outcomes and states as attributes, not as instruments of their own.
/// </summary>
internal sealed class LifecycleMetrics
{
    public const string MeterName = "GracefulLifecycle";

    /// <summary>The attribute of <c>gracefullifecycle.phase</c> (the phase in snake case).</summary>
    public const string PhaseAttribute = "gracefullifecycle.phase";

    /// <summary>The outcome of a phase or a registry operation.</summary>
    public const string OutcomeAttribute = "gracefullifecycle.outcome";

    /// <summary>The registry's <see cref="IServiceRegistry.Name"/>.</summary>
    public const string RegistryAttribute = "gracefullifecycle.registry.name";

    /// <summary>The registry operation: <c>register</c>, <c>renew</c> or <c>deregister</c>.</summary>
    public const string OperationAttribute = "gracefullifecycle.registry.operation";

    // Histogram buckets for phases that take from milliseconds (an idle drain) to minutes (a preload): the
    // OpenTelemetry default buckets are for milliseconds and would put every phase in the last one.
    private static readonly double[] PhaseBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 20, 30, 45, 60, 120, 300];

    private static readonly LifecyclePhase[] Phases = Enum.GetValues<LifecyclePhase>();
    private static readonly string[] PhaseNames = [.. Phases.Select(ToSnakeCase)];

    private readonly Histogram<double> _preloadDuration;
    private readonly Histogram<double> _registrationDuration;
    private readonly Histogram<double> _delayDuration;
    private readonly Histogram<double> _drainDuration;
    private readonly Counter<long> _registryOperations;
    private Func<LifecyclePhase>? _phase;

    private readonly Counter<long> _abortedRequests;
    private readonly Counter<long> _refusedPreStops;
    private readonly UpDownCounter<long> _workInProgress;
    private readonly Histogram<double> _workDuration;
    private readonly Counter<long> _abandonedWork;
    private readonly Counter<long> _notStartedWork;
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
        _notStartedWork = meter.CreateCounter<long>(
            "gracefullifecycle.drain.not_started_work", "{work}", "Units of accepted work a worker never started before the drain deadline.");
        _closedWebSockets = meter.CreateCounter<long>(
            "gracefullifecycle.drain.closed_websockets", "{connection}", "WebSockets the library closed with 1001 (Going Away) during the drain.");

        // As OpenTelemetry's state metrics (hw.status, k8s.*.phase): 1 for the current phase, 0 for every other one,
        // so a dashboard can sum instances per phase.
        meter.CreateObservableUpDownCounter("gracefullifecycle.phase", ObservePhase, "{phase}", "The lifecycle phase of the instance: 1 for the current phase, 0 for the others.");
        var advice = new InstrumentAdvice<double> { HistogramBucketBoundaries = PhaseBuckets };
        _preloadDuration = meter.CreateHistogram(
            "gracefullifecycle.preload.duration", "s", "How long preloading took, by outcome (succeeded, failed, canceled).", advice: advice);
        _registrationDuration = meter.CreateHistogram(
            "gracefullifecycle.registration.duration", "s", "How long registering with the service registries took before ready, by outcome.", advice: advice);
        _delayDuration = meter.CreateHistogram(
            "gracefullifecycle.shutdown_delay.duration", "s", "How long the shutdown delay was served, by how it ended (elapsed, quiet, maximum, skipped).", advice: advice);
        _drainDuration = meter.CreateHistogram(
            "gracefullifecycle.drain.duration", "s", "How long the drain took, by outcome (completed, timed_out).", advice: advice);
        _registryOperations = meter.CreateCounter<long>(
            "gracefullifecycle.registry.operations", "{operation}", "Calls to service registries, by registry, operation and outcome (success, failure, timeout, canceled).");

        CreateTimelineInstruments(meter);
    }

    /// <summary>Gives the phase gauge its source; the coordinator, built after the instruments, calls it once.</summary>
    public void ObservePhaseOf(Func<LifecyclePhase> phase) => _phase = phase;

    public void PreloadEnded(TimeSpan duration, string outcome) => _preloadDuration.Record(duration.TotalSeconds, Outcome(outcome));

    public void RegistrationEnded(TimeSpan duration, string outcome) => _registrationDuration.Record(duration.TotalSeconds, Outcome(outcome));

    /// <summary>
    /// Records the delay served after deregistration: <c>elapsed</c> (the fixed delay ran out), <c>quiet</c> or
    /// <c>maximum</c> (the adaptive delay ended on evidence or at its maximum), <c>skipped</c> (a second signal).
    /// </summary>
    public void ShutdownDelayServed(TimeSpan duration, string outcome) => _delayDuration.Record(duration.TotalSeconds, Outcome(outcome));

    public void DrainEnded(TimeSpan duration, bool timedOut) =>
        _drainDuration.Record(duration.TotalSeconds, Outcome(timedOut ? "timed_out" : "completed"));

    public void RegistryOperation(string registry, string operation, string outcome) =>
        _registryOperations.Add(
            1,
            new KeyValuePair<string, object?>(RegistryAttribute, registry),
            new KeyValuePair<string, object?>(OperationAttribute, operation),
            new KeyValuePair<string, object?>(OutcomeAttribute, outcome));

    internal static string ToSnakeCase(LifecyclePhase phase) => phase switch
    {
        LifecyclePhase.Starting => "starting",
        LifecyclePhase.Preloading => "preloading",
        LifecyclePhase.Registering => "registering",
        LifecyclePhase.Ready => "ready",
        LifecyclePhase.Leaving => "leaving",
        LifecyclePhase.Draining => "draining",
        LifecyclePhase.Stopped => "stopped",
        _ => throw new ArgumentOutOfRangeException(nameof(phase), phase, null),
    };

    private static KeyValuePair<string, object?> Outcome(string outcome) => new(OutcomeAttribute, outcome);

    private IEnumerable<Measurement<int>> ObservePhase()
    {
        if (_phase is not { } source)
        {
            return [];
        }

        var current = source();
        var measurements = new Measurement<int>[Phases.Length];
        for (var i = 0; i < Phases.Length; i++)
        {
            measurements[i] = new Measurement<int>(Phases[i] == current ? 1 : 0, new KeyValuePair<string, object?>(PhaseAttribute, PhaseNames[i]));
        }

        return measurements;
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

    public void WorkNotStarted(long count) => _notStartedWork.Add(count);

    public void WebSocketsClosed(long count) => _closedWebSockets.Add(count);

    // The shutdown timeline: the traffic that still arrived after leaving (how the delay ended is
    // gracefullifecycle.shutdown_delay.duration's outcome).
    private Counter<long>? _requestsAfterLeaving;
    private Histogram<double>? _lastRequestAfterLeaving;

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
        _requestsAfterLeaving = meter.CreateCounter<long>(
            "gracefullifecycle.shutdown.requests_after_leaving", "{request}", "Requests (probes excepted) that arrived after leaving started.");
        _lastRequestAfterLeaving = meter.CreateHistogram<double>(
            "gracefullifecycle.shutdown.last_request_after_leaving", "s", "From leaving to the last request (probes excepted) that still arrived: the shortest fixed delay that would have lost nothing.");
    }
}
