namespace GracefulLifecycle.Testing;

/// <summary>How an application's lifecycle behaves in a test host.</summary>
public sealed class GracefulLifecycleTestOptions
{
    /// <summary>
    /// Gets or sets a value indicating whether leaving serves no shutdown delay, so that disposing a factory or
    /// calling <c>/prestop</c> does not wait out the real delay. Registries' propagation delays still apply.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool NoShutdownDelay { get; set; } = true;

    /// <summary>
    /// Gets or sets the clock of the lifecycle (and of everything else that takes <see cref="System.TimeProvider"/>
    /// from the container), for example a <c>FakeTimeProvider</c> that the test moves forward itself.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: the application's own clock.</value>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether requests through <c>TestServer</c>, which has no network connection,
    /// count as coming from loopback, so that <c>/prestop</c> accepts them as it accepts a local caller. Requests
    /// over a real connection (Kestrel) keep their own addresses.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool TestServerIsLoopback { get; set; } = true;
}
