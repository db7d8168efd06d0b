using System.Collections.Concurrent;
using System.Net;
using GracefulLifecycle.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace GracefulLifecycle.Adaptive;

/// <summary>
/// Who sends requests, per remote address. Before leaving only with the adaptive delay on (its request rate); after
/// leaving always (the shutdown timeline). The request path costs a timestamp, a dictionary lookup and two or three
/// interlocked operations, and allocates nothing once a peer is known; telling probes apart costs a few string compares.
/// </summary>
internal sealed class TrafficMonitor
{
    private readonly ConcurrentDictionary<IPAddress, PeerTraffic> _peers = new();
    private readonly Lock _pruneGate = new();
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ProbeRequests _probes;
    private readonly string _readiness;
    private readonly ReadinessCheckRule _checkRule;
    private readonly long _stopAllowanceTicks;
    private readonly long _recheckTicks;
    private readonly long _bucketTicks;
    private readonly long _windowTicks;
    private readonly long _minimumQuietTicks;
    private readonly double _quietFactor;
    private readonly int _maxPeers;
    private readonly PeerTraffic _unknown;
    private readonly PeerTraffic _others;
    private int _count;
    private int _limitLogged;
    private int _left;

    public TrafficMonitor(TimeProvider time, IOptions<GracefulLifecycleOptions> options, ProbeRequests probes, ILogger<TrafficMonitor> logger)
    {
        _probes = probes;
        _time = time;
        _logger = logger;
        var o = options.Value;
        var adaptive = o.AdaptiveDelay;
        Enabled = adaptive.Enabled;
        // The readiness path is compared first, on its own (its checks are counted per peer): not again among the probes.
        _readiness = (o.ReadinessPath ?? string.Empty).TrimEnd('/');
        _checkRule = adaptive.ReadinessCheck;
        _stopAllowanceTicks = ToTicks(StopAllowance);
        _recheckTicks = ToTicks(ReadinessRecheck);
        _windowTicks = ToTicks(adaptive.TrafficWindow);
        _bucketTicks = Math.Max(1, _windowTicks / 2);
        _minimumQuietTicks = ToTicks(adaptive.MinimumQuietPeriod);
        _quietFactor = adaptive.QuietPeriodFactor;
        _maxPeers = adaptive.MaxPeers;
        var now = time.GetTimestamp();
        _unknown = new PeerTraffic(null, now);
        _others = new PeerTraffic(null, now);
    }

    /// <summary>Gets a value indicating whether requests are tracked before leaving (the adaptive delay is on).</summary>
    public bool Enabled { get; }

    public TimeProvider Time => _time;

    /// <summary>
    /// How often the delay looks again for a readiness check it waits for: the checks come at the balancer's interval,
    /// which the instance does not know.
    /// </summary>
    internal static readonly TimeSpan ReadinessRecheck = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Under <see cref="ReadinessCheckRule.StoppedAtFailedCheck"/>, how long after a failed readiness check the peer's
    /// last request may still arrive: the balancer goes on dispatching until it has the check's answer, and each such
    /// request opens a new connection (leaving closes keep-alive ones). Longer lets more pauses pass for a removal;
    /// shorter only makes the delay wait for the next check more often.
    /// </summary>
    internal static readonly TimeSpan StopAllowance = TimeSpan.FromMilliseconds(100);

    /// <summary>Counts a request that arrived before leaving started (called only when <see cref="Enabled"/>).</summary>
    public void Record(HttpContext context) =>
        Record(RemoteAddress(context), context.Request.Path, context.Request.Headers.UserAgent, afterLeaving: false);

    /// <summary>Counts a request that arrived after leaving started.</summary>
    public void RecordAfterLeaving(HttpContext context) =>
        Record(RemoteAddress(context), context.Request.Path, context.Request.Headers.UserAgent, afterLeaving: true);

    /// <summary>
    /// Counts a request: traffic, a readiness check (per peer, not traffic), or a probe (ignored, <see cref="ProbeRequests"/>).
    /// </summary>
    internal void Record(IPAddress? address, PathString path, StringValues userAgent, bool afterLeaving)
    {
        // The kubelet's probes first, its readiness probes included: from the node's address they would pass for the
        // checks of a balancer whose traffic is SNAT'd to that address.
        if (ProbeRequests.FromKubelet(userAgent))
        {
            return;
        }

        var value = path.Value.AsSpan().TrimEnd('/');
        var readiness = value.Equals(_readiness, StringComparison.OrdinalIgnoreCase);
        if (!readiness && _probes.IsProbePath(value))
        {
            return;
        }

        var now = _time.GetTimestamp();
        var peer = Peer(address, now);
        if (readiness)
        {
            peer.CheckedReadiness(now, afterLeaving);
        }
        else if (afterLeaving)
        {
            peer.ArrivedAfterLeaving(now);
        }
        else
        {
            peer.Arrived(now, _bucketTicks);
        }
    }

    /// <summary>For tests: as the middleware counts a request to <paramref name="path"/>.</summary>
    internal void Record(IPAddress? address, string path, bool afterLeaving) => Record(address, new PathString(path), StringValues.Empty, afterLeaving);

    /// <summary>For tests: as the middleware counts a request to <paramref name="path"/> sent with <paramref name="userAgent"/>.</summary>
    internal void Record(IPAddress? address, string path, string userAgent, bool afterLeaving) =>
        Record(address, new PathString(path), new StringValues(userAgent), afterLeaving);

    /// <summary>
    /// Leaving has started (readiness fails from now on): each peer's quiet period is set from the rate it sent at
    /// until now; a peer silent for the whole traffic window gets none (it is not waited for).
    /// </summary>
    public void MarkLeaving()
    {
        var now = _time.GetTimestamp();
        if (Interlocked.Exchange(ref _left, 1) != 0 || !Enabled)
        {
            return;
        }

        foreach (var peer in AllPeers())
        {
            // A request that came in between the phase change and this moment counts after leaving; the peer's earlier
            // ones still tell its rate. A peer with none before leaving has no rate: it is a newcomer.
            if (!peer.SentBeforeLeaving || now - peer.LastArrival > _windowTicks)
            {
                peer.QuietTicks = 0;
                continue;
            }

            peer.ChecksReadiness = _checkRule != ReadinessCheckRule.Ignore && peer.IsCheckingReadiness(now);

            var gap = ReferenceEquals(peer, _others) ? long.MaxValue : peer.MeanGapTicks(now, _bucketTicks);
            var quiet = gap == long.MaxValue || gap * _quietFactor >= long.MaxValue / 4 ? long.MaxValue : (long)(gap * _quietFactor);

            // Twice the longest pause the peer already made while routing here: pauses come from the peer's own
            // bursts and from a machine too busy to serve (seen in the drill: 2 s without a request under a load of 28
            // on 2 cores, the balancer still routing).
            var longest = peer.LongestGapTicks(now, _bucketTicks);
            if (quiet != long.MaxValue && longest > 0)
            {
                quiet = longest >= long.MaxValue / 8 ? long.MaxValue : Math.Max(quiet, 2 * longest);
            }

            peer.QuietTicks = quiet == long.MaxValue ? long.MaxValue : Math.Max(quiet, _minimumQuietTicks);
            peer.CheckFromTicks = _checkRule == ReadinessCheckRule.CheckAfterQuietPeriod ? peer.QuietTicks : -_stopAllowanceTicks;
        }
    }

    /// <summary>
    /// Tells when every peer that was sending before leaving will have been quiet for its quiet period, as a timestamp:
    /// <see cref="long.MaxValue"/> when one cannot be told (a peer too rare, a peer first seen after leaving, the peers
    /// beyond the limit, or no traffic at all). A peer that checks readiness itself has moved only at its first check
    /// as a failed check shows it (<see cref="ReadinessCheckRule"/>); until such a check arrives, the answer is a moment shortly ahead, to look again then.
    /// </summary>
    /// <param name="horizonTicks">
    /// The longest wait that can tell (the maximum delay, in timestamp ticks): a peer whose quiet period alone is as long
    /// counts as too rare to tell, for the log; it holds the delay to the maximum all the same.
    /// </param>
    public Estimate WhenAllQuiet(long horizonTicks = long.MaxValue)
    {
        var now = _time.GetTimestamp();
        long movedAt = 0;
        int sending = 0, rare = 0, newcomers = 0, awaitingCheck = 0;
        PeerTraffic? holder = null;
        foreach (var peer in AllPeers())
        {
            var quiet = peer.QuietTicks;
            if (quiet == 0)
            {
                if (peer.AfterLeaving > 0)
                {
                    newcomers++;
                    movedAt = long.MaxValue;
                    holder ??= peer;
                }

                continue;
            }

            sending++;
            if (quiet == long.MaxValue)
            {
                rare++;
                movedAt = long.MaxValue;
                holder ??= peer;
            }
            else
            {
                if (quiet >= horizonTicks)
                {
                    // A quiet period no shorter than the maximum cannot end the delay before it: too rare to tell.
                    rare++;
                }

                var quietAt = peer.LastArrival + quiet;
                if (peer.ChecksReadiness)
                {
                    // Silence alone may be a pause; a failed check with no request since (but those the rule allows) is the
                    // balancer's word.
                    if (peer.CheckConfirms)
                    {
                        quietAt = Math.Max(quietAt, peer.ConfirmingCheck);
                    }
                    else
                    {
                        awaitingCheck++;
                        quietAt = Math.Max(quietAt, now + _recheckTicks);
                    }
                }

                if (movedAt != long.MaxValue && quietAt > movedAt)
                {
                    movedAt = quietAt;
                    holder = peer;
                }
            }
        }

        return new Estimate(sending == 0 && newcomers == 0 ? long.MaxValue : movedAt, sending, rare, newcomers, awaitingCheck, holder);
    }

    /// <summary>Gets the peers that sent requests after leaving, busiest first.</summary>
    public IReadOnlyList<PeerTraffic> AfterLeaving() =>
        [.. AllPeers().Where(p => p.AfterLeaving > 0).OrderByDescending(p => p.AfterLeaving)];

    public long ToTicks(TimeSpan span) =>
        span <= TimeSpan.Zero ? 0 : (long)Math.Min(span.Ticks * (double)_time.TimestampFrequency / TimeSpan.TicksPerSecond, long.MaxValue / 4);

    /// <summary>
    /// The remote address from the connection feature: <see cref="HttpContext.Connection"/> would allocate its wrapper
    /// on a context that has not created it yet (in Kestrel once per connection, in a TestServer once per request).
    /// </summary>
    private static IPAddress? RemoteAddress(HttpContext context) => context.Features.Get<IHttpConnectionFeature>()?.RemoteIpAddress;

    private IEnumerable<PeerTraffic> AllPeers() => _peers.Values.Append(_unknown).Append(_others);

    private PeerTraffic Peer(IPAddress? address, long now)
    {
        if (address is null)
        {
            return _unknown;
        }

        return _peers.TryGetValue(address, out var peer) ? peer : Add(address, now);
    }

    private PeerTraffic Add(IPAddress address, long now)
    {
        if (Volatile.Read(ref _count) >= _maxPeers && !Prune(now))
        {
            if (Interlocked.Exchange(ref _limitLogged, 1) == 0)
            {
                Log.TrafficPeerLimitReached(_logger, _maxPeers);
            }

            return _others;
        }

        var fresh = new PeerTraffic(address, now);
        if (_peers.TryAdd(address, fresh))
        {
            Interlocked.Increment(ref _count);
            return fresh;
        }

        return _peers.TryGetValue(address, out var existing) ? existing : _others;
    }

    /// <summary>Forgets peers silent for the whole window (not those the timeline reports); true if room was made.</summary>
    private bool Prune(long now)
    {
        lock (_pruneGate)
        {
            foreach (var (address, peer) in _peers)
            {
                if (now - peer.LastArrival > _windowTicks && peer.AfterLeaving == 0 && _peers.TryRemove(address, out _))
                {
                    Interlocked.Decrement(ref _count);
                }
            }

            return Volatile.Read(ref _count) < _maxPeers;
        }
    }

    /// <summary>What the peers tell about the end of the traffic.</summary>
    /// <param name="QuietAt">When all will have been quiet, as a timestamp; <see cref="long.MaxValue"/> if that cannot be told.</param>
    /// <param name="Sending">Peers that were sending before leaving.</param>
    /// <param name="TooRare">Of those, peers that sent too rarely (or beyond the peer limit) to tell: no rate, or a quiet period at least the horizon asked for.</param>
    /// <param name="Newcomers">Peers first seen after leaving started.</param>
    /// <param name="AwaitingCheck">Of the sending peers, those that check readiness and whose traffic no failed check has yet shown to have stopped.</param>
    /// <param name="Latest">The peer that ends the wait last (or that keeps it to the maximum), for the log.</param>
    internal readonly record struct Estimate(long QuietAt, int Sending, int TooRare, int Newcomers, int AwaitingCheck, PeerTraffic? Latest);
}
