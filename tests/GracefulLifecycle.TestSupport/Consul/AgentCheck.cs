namespace GracefulLifecycle.TestSupport.Consul;

/// <summary>One health check of a service registered with the fake agent, as the agent understood it.</summary>
public sealed class AgentCheck
{
    /// <summary>Gets the check ID: the one sent, else <c>service:{id}</c>, or <c>service:{id}:{n}</c> (from 1) when the
    /// service has several checks (hashicorp/consul agent/agent.go, <c>addServiceInternal</c>).</summary>
    public required string Id { get; init; }

    /// <summary>Gets the check name: the one sent, else <c>Service '{name}' check</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Gets the check type: <c>http</c> or <c>ttl</c>.</summary>
    public required string Type { get; init; }

    /// <summary>Gets the URL of an HTTP check, or <see langword="null"/> for a TTL check.</summary>
    public string? Http { get; init; }

    public string Method { get; init; } = "GET";

    /// <summary>Gets the interval, raised to Consul's one-second minimum.</summary>
    public TimeSpan Interval { get; init; }

    /// <summary>Gets the timeout; Consul's default is 10 seconds.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets how long the check may stay critical before the reaper removes its service, raised to Consul's
    /// one-minute minimum; zero when not set (the check never removes its service).</summary>
    public TimeSpan DeregisterCriticalServiceAfter { get; init; }

    /// <summary>Gets the status: <c>passing</c>, <c>warning</c> or <c>critical</c> (Consul's initial status).</summary>
    public string Status { get; internal set; } = "critical";

    public string Output { get; internal set; } = string.Empty;

    /// <summary>Gets when a run first found the check critical (on the agent's clock), or <see langword="null"/> while it
    /// is not, and before its first run: a new check starts critical without a critical time (hashicorp/consul
    /// agent/local/state.go, <c>addCheckLocked</c> and <c>UpdateCheck</c>).</summary>
    public DateTimeOffset? CriticalSince { get; internal set; }

    // The agent's state of the check's periodic run: its timer, the start of the last result applied.
    internal ITimer? Timer { get; set; }

    internal bool Stopped { get; set; }

    internal long LastAppliedRun { get; set; } = -1;
}
