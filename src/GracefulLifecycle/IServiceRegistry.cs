namespace GracefulLifecycle;

/// <summary>
/// A service registry the instance registers with once preload has succeeded and leaves first when shutdown starts.
/// The lifecycle drives every call: it registers with retries and backoff, renews at <see cref="RenewalInterval"/>
/// while registered, registers again when a renewal reports the registration lost (never once leaving has begun),
/// and after <see cref="DeregisterAsync"/> sends nothing more. Implementations only make the calls.
/// </summary>
/// <remarks>Register implementations with <c>AddServiceRegistry&lt;T&gt;()</c> on the lifecycle builder.</remarks>
public interface IServiceRegistry
{
    /// <summary>Gets the registry's name, as it appears in logs.</summary>
    string Name { get; }

    /// <summary>
    /// Gets how long after a successful registration the registry's consumers can be expected to see the instance.
    /// Readiness waits for it.
    /// </summary>
    TimeSpan VisibilityDelay { get; }

    /// <summary>
    /// Gets how long after deregistration consumers may still call the instance (registry and client caches).
    /// The shutdown delay is raised to at least this value.
    /// </summary>
    TimeSpan PropagationDelay { get; }

    /// <summary>
    /// Gets how often <see cref="RenewAsync"/> is called while registered, or <see cref="Timeout.InfiniteTimeSpan"/>
    /// for never.
    /// </summary>
    TimeSpan RenewalInterval { get; }

    /// <summary>Registers the instance. Throws when the registry refused it or could not be reached.</summary>
    /// <param name="cancellationToken">Fires when shutdown starts or the call's budget is spent.</param>
    /// <returns>A task that completes when the registry has accepted the registration.</returns>
    Task RegisterAsync(CancellationToken cancellationToken);

    /// <summary>Renews the registration (heartbeat, lease keep-alive).</summary>
    /// <param name="cancellationToken">Fires when the call's budget is spent.</param>
    /// <returns><see langword="false"/> when the registry no longer knows the instance and it must register again.</returns>
    Task<bool> RenewAsync(CancellationToken cancellationToken);

    /// <summary>Removes the instance from the registry. An instance the registry does not know is not an error.</summary>
    /// <param name="cancellationToken">Fires when the deregistration budget is spent.</param>
    /// <returns>A task that completes when the registry has removed the instance.</returns>
    Task DeregisterAsync(CancellationToken cancellationToken);
}
