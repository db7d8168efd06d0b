using System.Diagnostics;
using GracefulLifecycle.Adaptive;

namespace GracefulLifecycle.Diagnostics;

/// <summary>
/// The library's spans, on the <see cref="ActivitySource"/> named after the package (with OpenTelemetry:
/// <c>.WithTracing(t =&gt; t.AddSource("GracefulLifecycle"))</c>): the preload and each of its tasks, each registry call,
/// and the shutdown. Names and attributes as docs/observability.md lists them; a failure sets the span's status to
/// Error and <c>error.type</c>, as the OpenTelemetry semantic conventions record errors.
/// </summary>
internal static class LifecycleTracing
{
    public const string SourceName = "GracefulLifecycle";

    public const string PreloadTaskAttribute = "gracefullifecycle.preload.task";
    public const string TriggerAttribute = "gracefullifecycle.shutdown.trigger";
    public const string DelayReasonAttribute = "gracefullifecycle.shutdown_delay.reason";
    public const string DrainReasonAttribute = "gracefullifecycle.drain.reason";

    public static readonly ActivitySource Source = new(SourceName, typeof(LifecycleTracing).Assembly.GetName().Version?.ToString());

    /// <summary>
    /// Starts a span with no parent, whatever the ambient one: a renewal every few seconds for the life of the process, or
    /// a shutdown started inside a <c>/prestop</c> request, is a trace of its own, not a child of what happened to run
    /// when it began. The ambient span, if any, is linked. With <paramref name="makeCurrent"/> the new span becomes the
    /// ambient one (for an async caller, whose changes stay its own: what it calls is traced under the span); without,
    /// the caller's ambient span is left as it was.
    /// </summary>
    public static Activity? StartRoot(
        string operationName, string displayName, ActivityTagsCollection? tags = null, DateTimeOffset startTime = default, bool makeCurrent = false)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var ambient = Activity.Current;
        ActivityLink[]? links = ambient is null ? null : [new ActivityLink(ambient.Context)];
        Activity.Current = null;
        try
        {
            var activity = Source.StartActivity(ActivityKind.Internal, default, tags, links, startTime, operationName);
            if (activity is not null)
            {
                activity.DisplayName = displayName;
            }

            return activity;
        }
        finally
        {
            if (!makeCurrent)
            {
                Activity.Current = ambient;
            }
        }
    }

    /// <summary>Starts a span under <paramref name="parent"/>, or under the ambient span when there is none.</summary>
    public static Activity? StartChild(string operationName, string displayName, ActivityContext parent = default, ActivityTagsCollection? tags = null)
    {
        var activity = Source.StartActivity(operationName, ActivityKind.Internal, parent, tags);
        if (activity is not null)
        {
            activity.DisplayName = displayName;
        }

        return activity;
    }

    /// <summary>Marks the span failed, with <c>error.type</c> (an exception's full type name, or a short value) and a description.</summary>
    public static void Failed(Activity? activity, string errorType, string? description = null)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag(LifecycleMetrics.ErrorTypeAttribute, errorType);
        activity.SetStatus(ActivityStatusCode.Error, description);
    }

    public static void Failed(Activity? activity, Exception exception)
    {
        if (activity is null)
        {
            return;
        }

        Failed(activity, LifecycleMetrics.ErrorType(exception), exception.Message);
        activity.AddException(exception);
    }
}

/// <summary>
/// One span per shutdown, from leaving to the host's stop, with events for the delay's end and the drain's start and
/// end and why each ended. Fed by <see cref="ShutdownTimeline"/>, which hears of each of these moments.
/// </summary>
/// <remarks>Its times are the lifecycle's <see cref="TimeProvider"/>'s, as every timing of the shutdown is.</remarks>
internal sealed class ShutdownTrace(TimeProvider time)
{
    public const string OperationName = "GracefulLifecycle.Shutdown";

    private readonly Lock _gate = new();
    private Activity? _shutdown;

    /// <summary>Gets the shutdown span's context, for the deregistrations made under it; default when none is recorded.</summary>
    public ActivityContext Context
    {
        get
        {
            lock (_gate)
            {
                return _shutdown?.Context ?? default;
            }
        }
    }

    public void Leaving(string trigger)
    {
        var activity = LifecycleTracing.StartRoot(OperationName, "shutdown", new ActivityTagsCollection { [LifecycleTracing.TriggerAttribute] = trigger }, time.GetUtcNow());
        lock (_gate)
        {
            Stop(_shutdown);
            _shutdown = activity;
        }
    }

    public void DelayEnded(DelayEnd reason) => AddEvent(
        "delay_ended", new ActivityTagsCollection { [LifecycleTracing.DelayReasonAttribute] = DelayReason(reason) });

    public void DrainStarted() => AddEvent("drain_started", null);

    /// <summary>The host has stopped: the drain's end, and the end of the span.</summary>
    public void Stopped(bool drainTimedOut)
    {
        var activity = Take();
        if (activity is null)
        {
            return;
        }

        activity.AddEvent(new ActivityEvent(
            "drain_ended", time.GetUtcNow(), new ActivityTagsCollection { [LifecycleTracing.DrainReasonAttribute] = drainTimedOut ? "timed_out" : "completed" }));
        if (drainTimedOut)
        {
            LifecycleTracing.Failed(activity, "timeout", "The drain deadline passed with work left.");
        }

        Stop(activity);
    }

    /// <summary>The instance returned to service: that leave ended without a stop.</summary>
    public void Rejoined()
    {
        var activity = Take();
        activity?.AddEvent(new ActivityEvent("rejoined", time.GetUtcNow()));
        Stop(activity);
    }

    /// <summary>How the delay ended, as the span event and <c>gracefullifecycle.shutdown_delay.duration</c> name it.</summary>
    public static string DelayReason(DelayEnd reason) => reason switch
    {
        DelayEnd.Quiet => "quiet",
        DelayEnd.Maximum => "maximum",
        DelayEnd.Signal => "skipped",
        DelayEnd.Elapsed => "elapsed",
        _ => "none",
    };

    private void AddEvent(string name, ActivityTagsCollection? tags)
    {
        lock (_gate)
        {
            _shutdown?.AddEvent(new ActivityEvent(name, time.GetUtcNow(), tags));
        }
    }

    private void Stop(Activity? activity)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetEndTime(time.GetUtcNow().UtcDateTime);
        activity.Stop();
    }

    private Activity? Take()
    {
        lock (_gate)
        {
            var activity = _shutdown;
            _shutdown = null;
            return activity;
        }
    }
}
