namespace GracefulLifecycle;

/// <summary>How the lifecycle registers with service registries (section <c>GracefulLifecycle:Registration</c>).</summary>
public sealed class RegistrationOptions
{
    /// <summary>
    /// Gets or sets a value indicating whether readiness waits for every registry to accept the registration,
    /// however long a registry stays unreachable. When <see langword="false"/>, readiness waits at most
    /// <see cref="StartupTimeout"/>, then the instance reports ready and keeps retrying in the background.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool Required { get; set; }

    /// <summary>Gets or sets how long readiness waits for an unreachable registry when registration is not required.</summary>
    /// <value>The default value is 30 seconds.</value>
    public TimeSpan StartupTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets the bound on leaving the registries at shutdown (all at once): at most
    /// <see cref="InFlightCallTimeout"/> of waiting for a call already in flight, then the deregistration with the
    /// rest. It counts in the shutdown budget.
    /// </summary>
    /// <value>The default value is 2 seconds.</value>
    public TimeSpan DeregistrationTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Gets or sets the wait before the first retry of a failed registration; it doubles up to <see cref="RetryMaxDelay"/>.</summary>
    /// <value>The default value is 1 second.</value>
    public TimeSpan RetryInitialDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the longest wait between registration retries.</summary>
    /// <value>The default value is 30 seconds.</value>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets how long leaving waits for a registry call already in flight (a heartbeat, a registration) to land
    /// before it cancels that call and deregisters. Waiting keeps a late heartbeat from arriving after the
    /// deregistration and registering the instance again; the bound keeps a hung call from using up the time of the
    /// deregistration. Part of <see cref="DeregistrationTimeout"/>, and shorter than it.
    /// </summary>
    /// <value>The default value is 500 milliseconds.</value>
    public TimeSpan InFlightCallTimeout { get; set; } = TimeSpan.FromMilliseconds(500);
}
