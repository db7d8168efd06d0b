using System.Globalization;
using System.Text;
using GracefulLifecycle.Diagnostics;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Adaptive;

/// <summary>
/// One shutdown, told once at its end (one log line and the metrics): when leaving started and why, the requests that
/// still arrived after it (per peer, and the last one), when and why the delay ended, when the drain started and
/// ended. The figures an operator needs to set a fixed delay from data: the last request after leaving is the
/// shortest delay that would have lost nothing. The same moments make the shutdown's span (<see cref="ShutdownTrace"/>).
/// </summary>
internal sealed class ShutdownTimeline(TrafficMonitor traffic, LifecycleMetrics metrics, ShutdownTrace trace, ILogger<ShutdownTimeline> logger)
{
    /// <summary>The peers named in the log line, busiest first; the rest are counted.</summary>
    internal const int PeersShown = 5;

    // Timestamps start anywhere, 0 included (a fake clock): "not yet" is its own value.
    private const long NotYet = long.MinValue;

    private readonly TimeProvider _time = traffic.Time;
    private string _trigger = string.Empty;
    private DateTimeOffset _leavingAt;
    private long _leavingStarted = NotYet;
    private long _delayEnded = NotYet;
    private DelayEnd _delayEnd;
    private long _drainStarted = NotYet;
    private string _advice = "none";
    private int _reported;

    /// <summary>Gets why the delay ended; <see cref="DelayEnd.None"/> until it has.</summary>
    public DelayEnd DelayEnd => _delayEnd;

    /// <summary>Gets how long after leaving started the delay ended; <see langword="null"/> until it has.</summary>
    public TimeSpan? DelayEndedAfter => Volatile.Read(ref _delayEnded) is var ended and not NotYet
        ? _time.GetElapsedTime(Volatile.Read(ref _leavingStarted), ended)
        : null;

    /// <summary>Leaving has started: readiness fails from now on.</summary>
    public void Leaving(string trigger)
    {
        trace.Leaving(trigger);
        _trigger = trigger;
        _leavingAt = _time.GetUtcNow();
        Volatile.Write(ref _leavingStarted, _time.GetTimestamp());
        traffic.MarkLeaving();
    }

    /// <summary>The delay has ended.</summary>
    /// <param name="reason">Why.</param>
    /// <param name="at">When it was due to end, as a timestamp: the wait's own bound, or the moment every peer had been quiet long enough.</param>
    public void DelayEnded(DelayEnd reason, long at)
    {
        _delayEnd = reason;
        Volatile.Write(ref _delayEnded, at);
        trace.DelayEnded(reason);
    }

    /// <summary>A platform's advice was applied: which case it was, how long the delay was held and why, how it was fitted.</summary>
    public void Advised(string advice) => Volatile.Write(ref _advice, advice);

    /// <summary>Gets the platform's advice as applied; <c>none</c> when there was none.</summary>
    public string Advice => Volatile.Read(ref _advice);

    public void DrainStarted()
    {
        Volatile.Write(ref _drainStarted, _time.GetTimestamp());
        trace.DrainStarted();
    }

    /// <summary>The instance returned to service after a leave that no stop followed.</summary>
    public void Rejoined() => trace.Rejoined();

    /// <summary>The host has stopped: the drain is over. Logs the timeline and records its metrics, once.</summary>
    /// <param name="drainTimedOut">Whether the drain deadline passed.</param>
    public void Stopped(bool drainTimedOut = false)
    {
        trace.Stopped(drainTimedOut);
        var leaving = Volatile.Read(ref _leavingStarted);
        if (leaving == NotYet || Interlocked.Exchange(ref _reported, 1) != 0)
        {
            return;
        }

        var now = _time.GetTimestamp();
        var peers = traffic.AfterLeaving();
        long requests = 0, last = 0;
        foreach (var peer in peers)
        {
            requests += peer.AfterLeaving;
            last = Math.Max(last, peer.LastAfterLeaving);
        }

        long? lastMs = requests == 0 ? null : Offset(leaving, last);
        var delayEnded = Volatile.Read(ref _delayEnded);
        var drainStarted = Volatile.Read(ref _drainStarted);
        Log.ShutdownTimeline(
            logger,
            _trigger,
            _leavingAt,
            DescribeAfterLeaving(requests, lastMs),
            delayEnded == NotYet || _delayEnd == DelayEnd.None ? "no delay (never ready: nobody was routed here)" : $"delay {_delayEnd} at +{Offset(leaving, delayEnded)} ms",
            drainStarted == NotYet ? 0 : Offset(leaving, drainStarted),
            Offset(leaving, now),
            DescribePeers(leaving, peers),
            Advice);

        metrics.RequestsAfterLeaving(requests, lastMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null);
    }

    internal static string DescribeAfterLeaving(long requests, long? lastMs) => (requests, lastMs) switch
    {
        (0, _) or (_, null) => "no request arrived after it",
        (1, { } ms) => string.Create(CultureInfo.InvariantCulture, $"1 request arrived after it, {ms} ms after it"),
        (_, { } ms) => string.Create(CultureInfo.InvariantCulture, $"{requests} requests arrived after it, the last {ms} ms after it"),
    };

    private long Offset(long from, long to) => (long)_time.GetElapsedTime(from, to).TotalMilliseconds;

    private string DescribePeers(long leaving, IReadOnlyList<PeerTraffic> peers)
    {
        if (peers.Count == 0)
        {
            return "none";
        }

        var text = new StringBuilder();
        foreach (var peer in peers.Take(PeersShown))
        {
            if (text.Length > 0)
            {
                text.Append("; ");
            }

            text.Append(CultureInfo.InvariantCulture, $"{peer.Address?.ToString() ?? "(other)"} {peer.AfterLeaving} {(peer.AfterLeaving == 1 ? "request" : "requests")}, last at +{Offset(leaving, peer.LastAfterLeaving)} ms");
        }

        if (peers.Count > PeersShown)
        {
            text.Append(CultureInfo.InvariantCulture, $"; {peers.Count - PeersShown} more peers");
        }

        return text.ToString();
    }
}
