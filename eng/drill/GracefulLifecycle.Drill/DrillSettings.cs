namespace GracefulLifecycle.Drill;

/// <summary>One drill run.</summary>
internal sealed record DrillSettings(DrillScenario Scenario, BalancerMode Mode, int Rollouts)
{
    /// <summary>Gets what keeps the service busy: wrk, WebSocket clients or SignalR clients.</summary>
    public DrillLoad Load { get; init; } = DrillLoad.Http;

    public int Replicas { get; init; } = 3;

    /// <summary>Gets how many WebSocket or SignalR clients the long-lived loads run.</summary>
    public int Clients { get; init; } = 50;

    public int Connections { get; init; } = 16;

    public int Threads { get; init; } = 2;

    /// <summary>Gets the shutdown delay of the library scenarios: longer than HAProxy's 1 s health-check period.</summary>
    public TimeSpan ShutdownDelay { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets the orchestrator's grace period before SIGKILL (terminationGracePeriodSeconds).</summary>
    public TimeSpan GracePeriod { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Gets how often the etcd consumer reads the replica list.</summary>
    public TimeSpan ConsumerRefresh { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets how long the load runs on a steady service before the first rollout and after the last.</summary>
    public TimeSpan SteadyLoad { get; init; } = TimeSpan.FromSeconds(2);

    public bool Timeline { get; init; }

    public string Name => (Load != DrillLoad.Http ? $"{Load}/{Scenario}"
        : Mode == BalancerMode.None ? Scenario.ToString()
        : $"{Scenario}/{Mode}").ToLowerInvariant();
}
