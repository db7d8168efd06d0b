using System.Diagnostics.CodeAnalysis;

namespace GracefulLifecycle;

/// <summary>
/// Tells the shutdown, as it starts, what only the platform knows: when the process will really be killed, and what
/// the delay must wait for before the instance is out of rotation. A platform package (Kubernetes) registers one as a
/// singleton; every one registered is consulted once per shutdown, as leaving starts, in parallel with leaving the
/// registries.
/// </summary>
/// <remarks>
/// <para>
/// The advice is awaited for at most two seconds (the time is served as part of the delay, with readiness already
/// failing): an advisor that has not answered by then, or that throws, is ignored and the shutdown goes on as planned.
/// An advisor should bound its own calls by the token it is given.
/// </para>
/// <para>Experimental (<c>GLEXP002</c>): the shape of the advice may change in a minor release.</para>
/// </remarks>
[Experimental(DiagnosticIds.Experiments.ShutdownAdvice, UrlFormat = DiagnosticIds.Experiments.UrlFormat)]
public interface IShutdownAdvisor
{
    /// <summary>Returns the advice for the shutdown that is starting.</summary>
    /// <param name="context">The shutdown that is starting.</param>
    /// <param name="cancellationToken">Fires when the shutdown stops waiting for the advice.</param>
    /// <returns>The advice; <see langword="null"/> when the advisor has none (the shutdown goes on as planned).</returns>
    Task<ShutdownAdvice?> AdviseAsync(ShutdownAdviceContext context, CancellationToken cancellationToken);
}

/// <summary>The shutdown that is starting, as an <see cref="IShutdownAdvisor"/> sees it.</summary>
/// <remarks>Experimental (<c>GLEXP002</c>), like <see cref="IShutdownAdvisor"/>.</remarks>
[Experimental(DiagnosticIds.Experiments.ShutdownAdvice, UrlFormat = DiagnosticIds.Experiments.UrlFormat)]
public sealed class ShutdownAdviceContext
{
    /// <summary>Initializes a new instance of the <see cref="ShutdownAdviceContext"/> class.</summary>
    /// <param name="trigger">What started the shutdown.</param>
    /// <param name="leavingAt">When leaving started.</param>
    /// <param name="terminationStartedAt">When the termination started, as far as the library can tell.</param>
    public ShutdownAdviceContext(string trigger, DateTimeOffset leavingAt, DateTimeOffset terminationStartedAt)
    {
        Trigger = trigger;
        LeavingAt = leavingAt;
        TerminationStartedAt = terminationStartedAt;
    }

    /// <summary>Gets what started the shutdown: <c>SIGTERM</c>, <c>preStop endpoint</c>, <c>LeaveAsync</c>, ...</summary>
    public string Trigger { get; }

    /// <summary>Gets when leaving started: readiness fails from this moment.</summary>
    public DateTimeOffset LeavingAt { get; }

    /// <summary>
    /// Gets when the termination started, as far as the library can tell: <see cref="LeavingAt"/>, less the
    /// <see cref="PreStopOptions.Sleep"/> when the shutdown started at SIGTERM (the kubelet counts the grace period
    /// from the start of the preStop hook).
    /// </summary>
    public DateTimeOffset TerminationStartedAt { get; }
}

/// <summary>
/// What an <see cref="IShutdownAdvisor"/> tells the shutdown: a deadline to fit in, a condition to hold the delay for,
/// or both; and, for the logs and the shutdown timeline, which case it is.
/// </summary>
/// <remarks>
/// <para>
/// A <see cref="Deadline"/> earlier than the plan's end makes the shutdown fit: the delay gives way first, down to
/// <see cref="MinimumDelay"/>; then the drain; the margin before the deadline never does. A deadline later than the
/// plan changes nothing: the plan is never stretched to fill it.
/// </para>
/// <para>
/// A <see cref="HoldUntil"/> task holds the delay: the instance keeps serving (readiness failing) until it completes,
/// then serves the planned delay, then drains. The hold ends at the latest when the drain, the margin and the minimum
/// delay would no longer fit before the deadline (<see cref="Deadline"/>, or else the termination start plus
/// <see cref="GracefulLifecycleOptions.TerminationGracePeriod"/>).
/// </para>
/// <para>Experimental (<c>GLEXP002</c>), like <see cref="IShutdownAdvisor"/>.</para>
/// </remarks>
[Experimental(DiagnosticIds.Experiments.ShutdownAdvice, UrlFormat = DiagnosticIds.Experiments.UrlFormat)]
public sealed class ShutdownAdvice
{
    /// <summary>Initializes a new instance of the <see cref="ShutdownAdvice"/> class.</summary>
    /// <param name="case">Which case it is, for the logs and the shutdown timeline (for instance, <c>pod deleted with a grace period of 8 s</c>).</param>
    public ShutdownAdvice(string @case)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(@case);
        Case = @case;
    }

    /// <summary>Gets which case it is, for the logs and the shutdown timeline.</summary>
    public string Case { get; }

    /// <summary>Gets when the process will be killed; <see langword="null"/> when the advisor does not know.</summary>
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>
    /// Gets the shortest delay a fit to <see cref="Deadline"/> may leave (never more than the planned delay): how long
    /// the platform's own routing needs to stop sending new requests once the instance is out of rotation.
    /// </summary>
    public TimeSpan MinimumDelay { get; init; }

    /// <summary>Gets a task that completes when the delay may start; <see langword="null"/> for no hold.</summary>
    public Task? HoldUntil { get; init; }

    /// <summary>Gets what <see cref="HoldUntil"/> waits for, for the logs and the shutdown timeline.</summary>
    public string? HoldReason { get; init; }
}
