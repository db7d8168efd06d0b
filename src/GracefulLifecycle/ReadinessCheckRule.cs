using System.Diagnostics.CodeAnalysis;

namespace GracefulLifecycle;

/// <summary>
/// How the adaptive delay tells that a peer which checks the readiness endpoint itself (a load balancer's health check:
/// HAProxy, a cloud target group, Envoy) has taken the instance out. Such a balancer removes an instance when a check
/// fails, so its traffic stops at a failed check; silence alone may also be a pause of the balancer, of its clients or
/// of the machine, with the balancer still routing here.
/// </summary>
/// <remarks>Experimental (<c>GLEXP001</c>), like <see cref="AdaptiveDelayOptions"/>.</remarks>
[Experimental(DiagnosticIds.Experiments.AdaptiveDelay, UrlFormat = DiagnosticIds.Experiments.UrlFormat)]
public enum ReadinessCheckRule
{
    /// <summary>Its readiness checks are ignored: its silence alone, for its quiet period, counts, as for any other peer.</summary>
    Ignore = 0,

    /// <summary>
    /// Its traffic stopped at a failed readiness check: its last request arrived before a check answered 503 or no more
    /// than 100 ms after one (requests the balancer sent before it had the answer), and it has been silent for its
    /// quiet period since. A pause that happens to start within those 100 ms of a failed check that did not take the
    /// instance out (the first of a balancer's <c>fall 2</c>) is what this rule would trust wrongly; any other pause
    /// waits for the balancer's next check.
    /// </summary>
    StoppedAtFailedCheck = 1,

    /// <summary>
    /// A failed readiness check came a quiet period or more after its last request, with no request since: the
    /// balancer is alive, has seen the failure and routes elsewhere. The strictest rule: a pause, wherever it starts,
    /// never ends the delay, at the cost of up to one check interval (HAProxy's <c>downinter</c>) after the removal.
    /// </summary>
    CheckAfterQuietPeriod = 2,
}
