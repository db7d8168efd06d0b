using System.Diagnostics.CodeAnalysis;

namespace GracefulLifecycle;

/// <summary>
/// The adaptive shutdown delay, bound from <c>GracefulLifecycle:AdaptiveDelay</c>. When enabled, the serve-through
/// phase after leaving ends once the traffic that was arriving has stopped, instead of always lasting
/// <see cref="GracefulLifecycleOptions.ShutdownDelay"/>. Each peer (remote address: a load balancer, a proxy, a
/// registry consumer) that sent requests before leaving counts as gone once it has been silent for a quiet period
/// scaled to its own earlier request rate. The delay never ends before <see cref="MinimumDelay"/> nor before the
/// registries' propagation delays, and never lasts longer than the shutdown delay, which becomes the maximum. Peers
/// that send too rarely to tell, peers first seen after leaving started, and an instance that received no traffic
/// at all, all wait the maximum. Probe requests (liveness, readiness, preStop) never count as traffic.
/// </summary>
/// <remarks>Experimental (<c>GLEXP001</c>): the dials and their defaults may change in a minor release.</remarks>
[Experimental(DiagnosticIds.Experiments.AdaptiveDelay, UrlFormat = DiagnosticIds.Experiments.UrlFormat)]
public sealed class AdaptiveDelayOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = GracefulLifecycleOptions.SectionName + ":AdaptiveDelay";

    internal static readonly TimeSpan DefaultMinimumDelay = TimeSpan.FromMilliseconds(500);
    internal static readonly TimeSpan DefaultMinimumQuietPeriod = TimeSpan.FromMilliseconds(500);
    internal static readonly TimeSpan DefaultTrafficWindow = TimeSpan.FromSeconds(30);
    internal const double DefaultQuietPeriodFactor = 10;
    internal const int DefaultMaxPeers = 1024;

    /// <summary>
    /// Gets or sets a value indicating whether the delay ends on evidence that traffic has stopped. When disabled the
    /// fixed <see cref="GracefulLifecycleOptions.ShutdownDelay"/> is served in full and nothing is tracked before
    /// leaving starts (the shutdown timeline still counts the requests that arrive after it).
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool Enabled { get; set; }

    /// <summary>
    /// Gets or sets the shortest delay, counted like the shutdown delay from the end of deregistration: at least one
    /// quiet period (<see cref="MinimumQuietPeriod"/>) by default, so that traffic that stopped just before leaving still
    /// has to stay stopped that long. Raise it to cover a peer that may route here yet stay silent for a while (a client
    /// with its own cache of addresses). Must not exceed <see cref="GracefulLifecycleOptions.ShutdownDelay"/>.
    /// </summary>
    /// <value>The default value is 500 milliseconds.</value>
    public TimeSpan MinimumDelay { get; set; } = DefaultMinimumDelay;

    /// <summary>
    /// Gets or sets how many mean gaps between a peer's requests (measured before leaving) it must stay silent to count
    /// as gone. With Poisson-like arrivals a gap longer than 10 means happens once in about 22,000 gaps.
    /// </summary>
    /// <value>The default value is 10.</value>
    public double QuietPeriodFactor { get; set; } = DefaultQuietPeriodFactor;

    /// <summary>
    /// Gets or sets the shortest quiet period of any peer, however fast it sent: a busy load balancer's requests
    /// arrive microseconds apart, but its pauses (a connection re-established, a slow response) last longer.
    /// </summary>
    /// <value>The default value is 500 milliseconds.</value>
    public TimeSpan MinimumQuietPeriod { get; set; } = DefaultMinimumQuietPeriod;

    /// <summary>
    /// Gets or sets how far back before leaving a peer's request rate is measured. A peer silent for longer is not
    /// waited for; one that sent too few requests in it to make its quiet period fit the maximum makes the delay last
    /// the maximum.
    /// </summary>
    /// <value>The default value is 30 seconds.</value>
    public TimeSpan TrafficWindow { get; set; } = DefaultTrafficWindow;

    /// <summary>
    /// Gets or sets how many peers are tracked at once. Requests from further peers are counted together, and if any
    /// arrived within <see cref="TrafficWindow"/> the delay lasts the maximum: an instance facing many direct clients
    /// gets no benefit from the adaptive delay, and no unbounded memory.
    /// </summary>
    /// <value>The default value is 1024.</value>
    public int MaxPeers { get; set; } = DefaultMaxPeers;

    /// <summary>
    /// Gets or sets how a peer that checks the readiness endpoint itself, at a steady pace when leaving starts (a load
    /// balancer's health check), is shown to have moved. By default its traffic must have stopped at a failed check;
    /// <see cref="ReadinessCheckRule.CheckAfterQuietPeriod"/> also waits for its next check, which no pause can fake;
    /// <see cref="ReadinessCheckRule.Ignore"/> trusts its silence alone. Set <see cref="ReadinessCheckRule.Ignore"/>
    /// where the traffic and the readiness checks share an address but the checks do not decide the routing (kubelet
    /// probes and SNAT'd Service traffic from the same node address).
    /// </summary>
    /// <value>The default value is <see cref="ReadinessCheckRule.StoppedAtFailedCheck"/>.</value>
    public ReadinessCheckRule ReadinessCheck { get; set; } = ReadinessCheckRule.StoppedAtFailedCheck;

    /// <summary>
    /// Gets paths whose requests do not count as traffic, in addition to the liveness, readiness and preStop paths and
    /// the probes recognised without configuration (the kubelet's User-Agent, the gRPC health service, every
    /// <c>MapHealthChecks</c> endpoint): typically a metrics endpoint that a scraper calls every 15 s, which would otherwise make the delay last the
    /// maximum. Compared case-insensitively, a trailing slash ignored.
    /// </summary>
    public IList<string> ExcludedPaths { get; } = new List<string>();
}
