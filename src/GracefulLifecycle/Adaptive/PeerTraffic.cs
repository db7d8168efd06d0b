using System.Net;

namespace GracefulLifecycle.Adaptive;

/// <summary>
/// What one peer (a remote address) sent: its request rate before leaving, counted in two buckets of half the
/// traffic window each, and its requests after leaving. Updated lock-free on the request path; the bucket roll, once
/// per half window, takes a lock. Counts racing a roll may land in either bucket: the rate is an estimate.
/// </summary>
internal sealed class PeerTraffic(IPAddress? address, long firstSeen)
{
    private readonly Lock _roll = new();
    private long _bucketStart = firstSeen;
    private long _bucketCount;
    private long _previousCount;
    private long _previousSpan;
    private long _bucketLongestGap;
    private long _previousLongestGap;
    // Far in the past until the first request: a peer never heard from is not sending.
    private long _lastArrival = long.MinValue / 2;
    private long _afterLeaving;
    private long _lastAfterLeaving;
    private long _confirmingCheck;
    private long _lastCheck;
    private long _checkGap;

    /// <summary>Gets the peer's address; <see langword="null"/> for the peers counted together beyond the limit or without an address.</summary>
    public IPAddress? Address { get; } = address;

    /// <summary>Gets when the peer's latest request arrived, as a timestamp.</summary>
    public long LastArrival => Volatile.Read(ref _lastArrival);

    /// <summary>Gets how many requests the peer sent after leaving started.</summary>
    public long AfterLeaving => Volatile.Read(ref _afterLeaving);

    /// <summary>Gets when the peer's latest request after leaving arrived, as a timestamp; 0 if none did.</summary>
    public long LastAfterLeaving => Volatile.Read(ref _lastAfterLeaving);

    /// <summary>
    /// Gets or sets a value indicating whether the peer was checking readiness at a steady pace when leaving started (a
    /// balancer's health check), as <see cref="IsCheckingReadiness"/> told then.
    /// </summary>
    public bool ChecksReadiness { get; set; }

    /// <summary>
    /// Gets or sets how long after (positive) or before (negative) the peer's latest request a readiness check after
    /// leaving may come and still show that the peer has moved, in timestamp ticks: the quiet period under
    /// <see cref="ReadinessCheckRule.CheckAfterQuietPeriod"/>, minus the allowance for requests sent before the balancer
    /// had the check's answer under <see cref="ReadinessCheckRule.StoppedAtFailedCheck"/>. Set when leaving starts.
    /// </summary>
    public long CheckFromTicks { get; set; }

    /// <summary>
    /// Gets when the peer's first readiness check after leaving (answered 503) that came no earlier than
    /// <see cref="CheckFromTicks"/> from its latest request then arrived, as a timestamp; 0 if none did. A later request
    /// makes it stale: it is then earlier than <see cref="LastArrival"/> plus <see cref="CheckFromTicks"/>.
    /// </summary>
    public long ConfirmingCheck => Volatile.Read(ref _confirmingCheck);

    /// <summary>
    /// Gets a value indicating whether a failed readiness check shows the peer has moved: one came no earlier than
    /// <see cref="CheckFromTicks"/> from its latest request, with no request since but those the rule allows. Always
    /// false for a peer with no finite quiet period.
    /// </summary>
    public bool CheckConfirms
    {
        get
        {
            var check = ConfirmingCheck;
            return QuietTicks is not 0 and not long.MaxValue && check != 0 && check >= LastArrival + CheckFromTicks;
        }
    }

    /// <summary>
    /// Gets the quiet period set when leaving started, in timestamp ticks: 0 if the peer was not sending then,
    /// <see cref="long.MaxValue"/> if it sent too rarely to tell.
    /// </summary>
    public long QuietTicks { get; set; }

    /// <summary>Gets a value indicating whether the peer sent anything before leaving (its rate is known).</summary>
    public bool SentBeforeLeaving { get; private set; }

    /// <summary>Counts a request before leaving: the rate estimate.</summary>
    public void Arrived(long now, long bucketTicks)
    {
        if (!SentBeforeLeaving)
        {
            SentBeforeLeaving = true;
        }

        Touch(now);
        if (now - Volatile.Read(ref _bucketStart) >= bucketTicks)
        {
            Roll(now, bucketTicks);
        }

        Interlocked.Increment(ref _bucketCount);
    }

    /// <summary>Counts a request after leaving: the timeline, and what the adaptive delay waits on.</summary>
    public void ArrivedAfterLeaving(long now)
    {
        Touch(now);
        Interlocked.Increment(ref _afterLeaving);
        if (now > Volatile.Read(ref _lastAfterLeaving))
        {
            Volatile.Write(ref _lastAfterLeaving, now);
        }
    }

    /// <summary>Counts a readiness check: not traffic, but the evidence a health-checking balancer gives.</summary>
    public void CheckedReadiness(long now, bool afterLeaving)
    {
        if (!afterLeaving)
        {
            // A health checker sends one check at a time; racing checks (not its pattern) may leave the pace a little off.
            var last = Volatile.Read(ref _lastCheck);
            if (now > last)
            {
                Volatile.Write(ref _checkGap, last == 0 ? 0 : now - last);
                Volatile.Write(ref _lastCheck, now);
            }

            return;
        }

        // Only the first check of the current silence is kept: the moment the balancer showed it had moved. A request
        // later than the rule allows makes it stale, and the next check counts instead.
        var quiet = QuietTicks;
        if (quiet is not 0 and not long.MaxValue)
        {
            var from = LastArrival + CheckFromTicks;
            if (now >= from && Volatile.Read(ref _confirmingCheck) < from)
            {
                Volatile.Write(ref _confirmingCheck, now);
            }
        }
    }

    /// <summary>
    /// Tells whether the peer is checking readiness at a steady pace at <paramref name="now"/>: it has checked twice or
    /// more, the latest no longer ago than twice the gap between its last two. A burst of checks long ago (a deploy
    /// script waiting for the instance to be ready) is not a balancer's health check.
    /// </summary>
    public bool IsCheckingReadiness(long now)
    {
        var gap = Volatile.Read(ref _checkGap);
        return gap > 0 && now - Volatile.Read(ref _lastCheck) <= 2 * gap;
    }

    /// <summary>
    /// Gets the mean time between the peer's requests before <paramref name="now"/>, in timestamp ticks, over the
    /// current and the previous bucket, never over less than one bucket: a burst from a peer first seen a moment ago
    /// reads as a slow rate (a longer quiet period), the safe side. <see cref="long.MaxValue"/> without requests.
    /// </summary>
    public long MeanGapTicks(long now, long bucketTicks)
    {
        long count, span;
        lock (_roll)
        {
            var current = now - _bucketStart;
            count = Volatile.Read(ref _bucketCount);
            if (current >= 2 * bucketTicks)
            {
                // Both buckets are older than the window.
                return long.MaxValue;
            }

            if (current < bucketTicks)
            {
                count += _previousCount;
                span = current + _previousSpan;
            }
            else
            {
                span = current;
            }
        }

        return count == 0 ? long.MaxValue : Math.Max(span, bucketTicks) / count;
    }

    /// <summary>
    /// Gets the longest gap between two of the peer's requests over the current and the previous bucket, in timestamp
    /// ticks: a pause the peer (or a machine too busy to serve it) already made while still routing here.
    /// </summary>
    public long LongestGapTicks(long now, long bucketTicks)
    {
        lock (_roll)
        {
            var current = now - _bucketStart;
            // The previous bucket may reach a little past the window: for a pause, the safe side.
            return current >= 2 * bucketTicks ? 0 : Math.Max(Volatile.Read(ref _bucketLongestGap), _previousLongestGap);
        }
    }

    private void Touch(long now)
    {
        // Racing writers may leave a timestamp a few microseconds old: the quiet period dwarfs that.
        var last = Volatile.Read(ref _lastArrival);
        if (now > last)
        {
            Volatile.Write(ref _lastArrival, now);

            // The first request has no gap before it; a racy maximum may miss a concurrent gap, never invent one.
            if (last != long.MinValue / 2 && now - last > Volatile.Read(ref _bucketLongestGap))
            {
                Volatile.Write(ref _bucketLongestGap, now - last);
            }
        }
    }

    private void Roll(long now, long bucketTicks)
    {
        lock (_roll)
        {
            var elapsed = now - _bucketStart;
            if (elapsed < bucketTicks)
            {
                return; // another request rolled it
            }

            // A bucket that ended more than a bucket ago says nothing about the rate now.
            var consecutive = elapsed < 2 * bucketTicks;
            _previousCount = consecutive ? Interlocked.Exchange(ref _bucketCount, 0) : 0;
            _previousSpan = consecutive ? elapsed : 0;
            _previousLongestGap = consecutive ? Interlocked.Exchange(ref _bucketLongestGap, 0) : 0;
            if (!consecutive)
            {
                Volatile.Write(ref _bucketCount, 0);
                Volatile.Write(ref _bucketLongestGap, 0);
            }

            Volatile.Write(ref _bucketStart, now);
        }
    }
}
