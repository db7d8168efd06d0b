namespace GracefulLifecycle.TestSupport.Consul;

/// <summary>A service registered with the fake agent, with its one check, as the agent understood it.</summary>
public sealed class AgentService
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    public required string Address { get; init; }

    public required int Port { get; init; }

    public required IReadOnlyList<string> Tags { get; init; }

    public required IReadOnlyDictionary<string, string> Meta { get; init; }

    /// <summary>Gets the HTTP check URL, or <see langword="null"/> when the service has no HTTP check.</summary>
    public string? CheckHttp { get; init; }

    public string CheckMethod { get; init; } = "GET";

    public TimeSpan CheckInterval { get; init; }

    /// <summary>Gets the check timeout; Consul's default is 10 seconds.</summary>
    public TimeSpan CheckTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets the effective value, raised to Consul's one-minute minimum; zero when not set.</summary>
    public TimeSpan DeregisterCriticalServiceAfter { get; init; }

    /// <summary>Gets the check status: <c>passing</c>, <c>warning</c> or <c>critical</c> (Consul's initial status).</summary>
    public string CheckStatus { get; internal set; } = "critical";

    public string CheckOutput { get; internal set; } = string.Empty;

    /// <summary>Gets the maintenance reason while maintenance mode is enabled, otherwise <see langword="null"/>.</summary>
    public string? MaintenanceReason { get; internal set; }
}
