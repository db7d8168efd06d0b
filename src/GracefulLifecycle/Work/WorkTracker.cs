using GracefulLifecycle.Diagnostics;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Work;

/// <summary>
/// The units of work in progress (<see cref="IGracefulLifecycle.BeginWork"/>): the drain waits until none is left,
/// and at the drain deadline the ones still running are named in the log, counted and aborted.
/// Beginning and ending work takes a lock; it is meant for jobs and messages, not for every request.
/// </summary>
internal sealed class WorkTracker(TimeProvider time, LifecycleMetrics metrics, ILogger<WorkTracker> logger)
{
    private readonly HashSet<TrackedWork> _running = [];
    private TaskCompletionSource? _idle;
    private bool _abandoned;

    public int Count
    {
        get
        {
            lock (_running)
            {
                return _running.Count;
            }
        }
    }

    public TrackedWork Begin(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var work = new TrackedWork(name, this, time.GetTimestamp());
        bool late;
        lock (_running)
        {
            _running.Add(work);
            late = _abandoned;
        }

        metrics.WorkStarted();
        if (late)
        {
            // The deadline has passed: the process is exiting, so this work may be cut off at any moment.
            Log.WorkBegunAfterDeadline(logger, name);
            work.Abort();
        }

        return work;
    }

    public void End(TrackedWork work)
    {
        TaskCompletionSource? idle = null;
        lock (_running)
        {
            if (!_running.Remove(work))
            {
                return;
            }

            if (_running.Count == 0)
            {
                idle = _idle;
                _idle = null;
            }
        }

        metrics.WorkEnded(time.GetElapsedTime(work.Started));
        idle?.TrySetResult();
    }

    /// <summary>Completes when no work is running; work begun after the call is waited for too.</summary>
    public Task WhenIdleAsync()
    {
        lock (_running)
        {
            if (_running.Count == 0)
            {
                return Task.CompletedTask;
            }

            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task;
        }
    }

    /// <summary>The drain deadline: names, counts and aborts the work still running, and any begun from now on.</summary>
    /// <returns>How many units of work were still running.</returns>
    public int AbandonAll()
    {
        TrackedWork[] left;
        lock (_running)
        {
            _abandoned = true;
            left = [.. _running];
        }

        foreach (var work in left)
        {
            Log.WorkAbandoned(logger, work.Name, (long)time.GetElapsedTime(work.Started).TotalMilliseconds);
            work.Abort();
        }

        if (left.Length > 0)
        {
            metrics.WorkAbandoned(left.Length);
        }

        return left.Length;
    }

    /// <summary>The most units of work that never started named one line each; the summary line counts them all.</summary>
    public const int MaxNotStartedNamed = 1000;

    /// <summary>
    /// Reports work accepted but never started when the drain deadline stopped its worker (the items left in an
    /// in-memory queue): each is named (up to <see cref="MaxNotStartedNamed"/>), all are counted, like abandoned work.
    /// </summary>
    /// <returns>How many units of work never started.</returns>
    public int ReportNotStarted(IEnumerable<string> names)
    {
        var count = 0;
        foreach (var name in names)
        {
            if (count < MaxNotStartedNamed)
            {
                Log.WorkNotStarted(logger, name);
            }

            count++;
        }

        if (count > 0)
        {
            Log.WorkNotStartedCount(logger, count, Math.Min(count, MaxNotStartedNamed));
            metrics.WorkNotStarted(count);
        }

        return count;
    }

    /// <summary>Names of the work running now, for the drain's log line.</summary>
    public string[] RunningNames()
    {
        lock (_running)
        {
            return [.. _running.Select(w => w.Name)];
        }
    }
}
