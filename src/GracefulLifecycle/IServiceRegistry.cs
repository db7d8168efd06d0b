namespace GracefulLifecycle;

/// <summary>
/// A service registry the instance registers with once preload has succeeded and leaves first when shutdown starts.
/// The lifecycle drives every call: it registers with retries and backoff, renews at <see cref="RenewalInterval"/>
/// while registered, registers again when a renewal reports the registration lost (never once leaving has begun),
/// and after <see cref="DeregisterAsync"/> sends nothing more. Implementations only make the calls.
/// </summary>
/// <remarks>
/// <para>
/// Register implementations with <c>AddServiceRegistry&lt;T&gt;()</c> on the lifecycle builder. An implementation may
/// depend on any service, <c>IOptions&lt;GracefulLifecycleOptions&gt;</c> included: the shutdown budget, which reads the
/// delays below, is checked once the container can build the registries, not while the options are validated.
/// </para>
/// <para>
/// What the lifecycle expects of every implementation (the contract the adapters are tested against): deregistering an
/// instance the registry does not know completes without error; the caller's cancellation ends a call with an
/// <see cref="OperationCanceledException"/>, never with a <see cref="TimeoutException"/>; a registry that cannot be
/// reached (refused or reset connection) throws an <see cref="HttpRequestException"/> whose
/// <see cref="HttpRequestException.HttpRequestError"/> is <see cref="HttpRequestError.ConnectionError"/>, and one
/// that gives no answer within the implementation's own timeout throws a <see cref="TimeoutException"/>;
/// <see cref="RenewAsync"/> answers <see langword="false"/> once the registry has lost the instance.
/// An <see cref="InvalidOperationException"/> from <see cref="RegisterAsync"/> means the configuration cannot work
/// (a missing port or name): the lifecycle stops retrying and fails startup.
/// </para>
/// </remarks>
public interface IServiceRegistry
{
    /// <summary>Gets the registry's name, as it appears in logs.</summary>
    string Name { get; }

    /// <summary>
    /// Gets how long after a successful registration the registry's consumers can be expected to see the instance:
    /// for most registries the same chain as <see cref="PropagationDelay"/>, since news of an arrival travels through
    /// the same caches as news of a departure. Readiness waits for it.
    /// </summary>
    TimeSpan VisibilityDelay { get; }

    /// <summary>
    /// Gets how long after deregistration consumers may still call the instance, term by term: the registry's own
    /// staleness, the consumers' registry refresh, their load balancer's cache, a margin, each with the setting it comes
    /// from. The shutdown delay is raised to at least its <see cref="GracefulLifecycle.PropagationDelay.Total"/>; the
    /// startup log and the budget error name each term. Read once, when the shutdown plan is built at startup.
    /// </summary>
    PropagationDelay PropagationDelay { get; }

    /// <summary>
    /// Gets how often <see cref="RenewAsync"/> is called while registered, or <see cref="Timeout.InfiniteTimeSpan"/>
    /// for never.
    /// </summary>
    TimeSpan RenewalInterval { get; }

    /// <summary>Registers the instance. Throws when the registry refused it or could not be reached.</summary>
    /// <param name="instance">
    /// Where the instance can be reached and its application name, computed once by the lifecycle when registration
    /// starts; the same value on every attempt and on registering again after the registration was lost.
    /// </param>
    /// <param name="cancellationToken">Fires when shutdown starts or the call's budget is spent.</param>
    /// <returns>A task that completes when the registry has accepted the registration.</returns>
    Task RegisterAsync(ServiceInstance instance, CancellationToken cancellationToken);

    /// <summary>Renews the registration (heartbeat, lease keep-alive).</summary>
    /// <param name="cancellationToken">Fires when the call's budget is spent.</param>
    /// <returns><see langword="false"/> when the registry no longer knows the instance and it must register again.</returns>
    Task<bool> RenewAsync(CancellationToken cancellationToken);

    /// <summary>Removes the instance from the registry. An instance the registry does not know is not an error.</summary>
    /// <param name="context">
    /// The time the call is given (<see cref="DeregistrationContext.Budget"/>), for an implementation that shares it
    /// among several servers; the lifecycle's options are not the place to read it from.
    /// </param>
    /// <param name="cancellationToken">Fires when the deregistration budget is spent.</param>
    /// <returns>A task that completes when the registry has removed the instance.</returns>
    Task DeregisterAsync(DeregistrationContext context, CancellationToken cancellationToken);
}
