using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace GracefulLifecycle.Diagnostics;

/// <summary>
/// The library's instruments, on the meter named after the package. Names follow the OpenTelemetry semantic
/// conventions: lowercase dotted names under <c>gracefullifecycle.</c>, durations as histograms in seconds (<c>s</c>),
/// states as attributes, not as instruments of their own, and a failure as <c>error.type</c> (absent on success).
/// What ASP.NET Core measures already (requests in flight: <c>http.server.active_requests</c>) is not repeated.
/// docs/observability.md maps each name to the convention it follows.
/// </summary>
internal sealed class LifecycleMetrics
{
    public const string MeterName = "GracefulLifecycle";

    /// <summary>The attribute of <c>gracefullifecycle.phase</c> (the phase in snake case).</summary>
    public const string PhaseAttribute = "gracefullifecycle.phase";

    /// <summary>
    /// The OpenTelemetry attribute for the class of error an operation ended with (an exception's full type name, or one
    /// of the short values docs/observability.md lists); not set when it succeeded.
    /// </summary>
    public const string ErrorTypeAttribute = "error.type";

    /// <summary>Why the shutdown delay ended: <c>elapsed</c>, <c>quiet</c>, <c>maximum</c> or <c>skipped</c>.</summary>
    public const string DelayReasonAttribute = LifecycleTracing.DelayReasonAttribute;

    /// <summary>The registry's <see cref="IServiceRegistry.Name"/>.</summary>
    public const string RegistryAttribute = "gracefullifecycle.registry.name";

    /// <summary>The registry operation: <c>register</c>, <c>renew</c> or <c>deregister</c>.</summary>
    public const string OperationAttribute = "gracefullifecycle.registry.operation";

    // Histogram buckets for phases that take from milliseconds (an idle drain) to minutes (a preload): the
    // OpenTelemetry default buckets are for milliseconds and would put every phase in the last one.
    private static readonly double[] PhaseBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 20, 30, 45, 60, 120, 300];

    // A registry call takes milliseconds, or up to its request timeout (tens of seconds) when the registry hangs.
    private static readonly double[] CallBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private static readonly LifecyclePhase[] Phases = Enum.GetValues<LifecyclePhase>();
    private static readonly string[] PhaseNames = [.. Phases.Select(ToSnakeCase)];

    private readonly Histogram<double> _preloadDuration;
    private readonly Histogram<double> _registrationDuration;
    private readonly Histogram<double> _delayDuration;
    private readonly Histogram<double> _drainDuration;
    private readonly Histogram<double> _registryOperations;
    private Func<LifecyclePhase>? _phase;

    private readonly Counter<long> _abortedRequests;
    private readonly Counter<long> _refusedPreStops;
    private readonly UpDownCounter<long> _workInProgress;
    private readonly Histogram<double> _workDuration;
    private readonly Counter<long> _abandonedWork;
    private readonly Counter<long> _notStartedWork;
    private readonly Counter<long> _closedWebSockets;

    public LifecycleMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _abortedRequests = meter.CreateCounter<long>(
            "gracefullifecycle.drain.aborted_requests", "{request}", "Requests aborted because they outlasted the drain timeout.");
        _refusedPreStops = meter.CreateCounter<long>(
            "gracefullifecycle.prestop.refused", "{call}", "Calls to the preStop endpoint refused by its access checks.");
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
            "gracefullifecycle.preload.duration", "s", "How long preloading took; error.type failed or canceled when it did not succeed.", advice: advice);
        _registrationDuration = meter.CreateHistogram(
            "gracefullifecycle.registration.duration", "s", "How long registering with the service registries took before ready; error.type failed or canceled when it did not succeed.", advice: advice);
        _delayDuration = meter.CreateHistogram(
            "gracefullifecycle.shutdown_delay.duration", "s", "How long the shutdown delay was served, by how it ended (elapsed, quiet, maximum, skipped).", advice: advice);
        _drainDuration = meter.CreateHistogram(
            "gracefullifecycle.drain.duration", "s", "How long the drain took; error.type timeout when its deadline passed.", advice: advice);
        // As db.client.operation.duration and rpc.client.call.duration: one histogram counts the calls and times them.
        _registryOperations = meter.CreateHistogram<double>(
            "gracefullifecycle.registry.operation.duration", "s", "Calls to service registries, by registry and operation (register, renew, deregister), with error.type when one failed.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = CallBuckets });

        CreateTimelineInstruments(meter);
    }

    /// <summary>Gives the phase gauge its source; the coordinator, built after the instruments, calls it once.</summary>
    public void ObservePhaseOf(Func<LifecyclePhase> phase) => _phase = phase;

    /// <summary>Records the preload: <paramref name="outcome"/> <c>succeeded</c> sets no <c>error.type</c>; <c>failed</c> or <c>canceled</c> is its value.</summary>
    public void PreloadEnded(TimeSpan duration, string outcome) => Record(_preloadDuration, duration, ErrorTypeOf(outcome));

    /// <summary>Records the registration: as <see cref="PreloadEnded"/>.</summary>
    public void RegistrationEnded(TimeSpan duration, string outcome) => Record(_registrationDuration, duration, ErrorTypeOf(outcome));

    /// <summary>
    /// Records the delay served after deregistration: <c>elapsed</c> (the fixed delay ran out), <c>quiet</c> or
    /// <c>maximum</c> (the adaptive delay ended on evidence or at its maximum), <c>skipped</c> (a second signal).
    /// </summary>
    public void ShutdownDelayServed(TimeSpan duration, string reason) =>
        _delayDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>(DelayReasonAttribute, reason));

    public void DrainEnded(TimeSpan duration, bool timedOut) => Record(_drainDuration, duration, timedOut ? "timeout" : null);

    /// <summary>Records one registry call; <paramref name="errorType"/> is <see langword="null"/> when it succeeded.</summary>
    public void RegistryOperation(string registry, string operation, TimeSpan duration, string? errorType)
    {
        var tags = new TagList
        {
            { RegistryAttribute, registry },
            { OperationAttribute, operation },
        };
        if (errorType is not null)
        {
            tags.Add(ErrorTypeAttribute, errorType);
        }

        _registryOperations.Record(duration.TotalSeconds, tags);
    }

    /// <summary>
    /// Gets <c>error.type</c> for an exception: its full type name, as the semantic conventions ask; the inner exception's
    /// for the wrappers that say nothing of the failure (an aggregate of one).
    /// </summary>
    public static string ErrorType(Exception exception) =>
        (exception is AggregateException { InnerExceptions.Count: 1 } aggregate ? aggregate.InnerExceptions[0] : exception).GetType().FullName ?? "_OTHER";

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

    private static string? ErrorTypeOf(string outcome) => outcome == "succeeded" ? null : outcome;

    private static void Record(Histogram<double> histogram, TimeSpan duration, string? errorType)
    {
        if (errorType is null)
        {
            histogram.Record(duration.TotalSeconds);
        }
        else
        {
            histogram.Record(duration.TotalSeconds, new KeyValuePair<string, object?>(ErrorTypeAttribute, errorType));
        }
    }

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
