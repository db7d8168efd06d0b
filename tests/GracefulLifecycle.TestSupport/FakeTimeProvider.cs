namespace GracefulLifecycle.TestSupport;

/// <summary>
/// The fake clock of Microsoft.Extensions.TimeProvider.Testing, with two things the tests here need on top:
/// <see cref="Advance"/> moves the clock from one due timer to the next, so a callback sees the time it was due at
/// (the base class jumps to the end first), and the pending timers can be inspected, so a test can wait until the code
/// under test has armed a timer before it moves the clock.
/// </summary>
public sealed class FakeTimeProvider : Microsoft.Extensions.Time.Testing.FakeTimeProvider
{
    private readonly Lock _gate = new();
    private readonly List<TrackedTimer> _timers = [];

    public FakeTimeProvider()
        : base(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero))
    {
    }

    /// <summary>Gets the number of timers that are waiting to fire.</summary>
    public int PendingTimers
    {
        get
        {
            lock (_gate)
            {
                return _timers.Count(t => t.DueAt is not null);
            }
        }
    }

    /// <summary>Gets, for every timer waiting to fire, how long from now until it does.</summary>
    public TimeSpan[] PendingDueTimes
    {
        get
        {
            var now = Now;
            lock (_gate)
            {
                return _timers.Where(t => t.DueAt is not null).Select(t => TimeSpan.FromTicks(t.DueAt!.Value - now)).ToArray();
            }
        }
    }

    private long Now => GetUtcNow().UtcTicks;

    /// <summary>Gets a value indicating whether a timer is waiting to fire exactly <paramref name="dueIn"/> from now.</summary>
    public bool HasTimerDueIn(TimeSpan dueIn) => PendingDueTimes.Contains(dueIn);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var tracked = new TrackedTimer(this);
        lock (_gate)
        {
            _timers.Add(tracked);
        }

        tracked.Inner = base.CreateTimer(
            s =>
            {
                tracked.Fired();
                callback(s);
            },
            state,
            Timeout.InfiniteTimeSpan,
            Timeout.InfiniteTimeSpan);
        tracked.Change(dueTime, period);
        return tracked;
    }

    /// <summary>Moves the clock forward, stopping at every timer that falls due on the way and firing it there.</summary>
    public new void Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        var target = Now + by.Ticks;
        while (true)
        {
            // Only timers still ahead: one armed on another thread while the clock moved may be recorded as due a
            // moment ago; the base class fires it on its own schedule, and waiting for it here would never end.
            var now = Now;
            long? next;
            lock (_gate)
            {
                next = _timers.Where(t => t.DueAt is { } due && due > now && due <= target).Min(t => t.DueAt);
            }

            if (next is null)
            {
                base.Advance(TimeSpan.FromTicks(Math.Max(0, target - now)));
                return;
            }

            // Fires every timer due by then, on this thread; a callback may arm new ones, found on the next turn.
            base.Advance(TimeSpan.FromTicks(next.Value - now));
        }
    }

    private sealed class TrackedTimer(FakeTimeProvider owner) : ITimer
    {
        private TimeSpan? _period;

        public ITimer Inner { get; set; } = null!;

        public long? DueAt { get; private set; }

        public void Fired()
        {
            lock (owner._gate)
            {
                DueAt = _period is { } period ? owner.Now + period.Ticks : null;
            }
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._gate)
            {
                DueAt = dueTime == Timeout.InfiniteTimeSpan ? null : owner.Now + Math.Max(0, dueTime.Ticks);
                _period = period == Timeout.InfiniteTimeSpan || period == TimeSpan.Zero ? null : period;
            }

            return Inner.Change(dueTime, period);
        }

        public void Dispose()
        {
            lock (owner._gate)
            {
                DueAt = null;
                owner._timers.Remove(this);
            }

            Inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
