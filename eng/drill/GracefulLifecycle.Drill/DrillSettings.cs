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

    /// <summary>Gets how long the load runs before the first rollout, if not <see cref="SteadyLoad"/>.</summary>
    public TimeSpan? LoadBeforeRollout { get; init; }

    public bool Timeline { get; init; }

    /// <summary>Gets whether the replicas run with <c>GracefulLifecycle:AdaptiveDelay:Enabled</c>: <see cref="ShutdownDelay"/> is then its maximum.</summary>
    public bool AdaptiveDelay { get; init; }

    /// <summary>Gets the adaptive delay's <c>ReadinessCheck</c> rule, if not its default.</summary>
    public string? ReadinessCheck { get; init; }

    /// <summary>Gets HAProxy's health-check period (<c>inter</c>, and <c>fastinter</c> while a server changes state).</summary>
    public TimeSpan CheckInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets how many failed checks in a row take a server out (HAProxy's <c>fall</c>).</summary>
    public int CheckFall { get; init; } = 1;

    /// <summary>
    /// Gets the consumer refresh interval the replicas declare to their etcd adapter (which raises the delay to it, plus
    /// 1 s): <see cref="ConsumerRefresh"/> unless set, lower to stand for a registry setting that is wrong.
    /// </summary>
    public TimeSpan? DeclaredConsumerRefresh { get; init; }

    /// <summary>Gets the registry and the consumers of the <see cref="DrillScenario.Eureka"/> and <see cref="DrillScenario.Consul"/> scenarios.</summary>
    public ConsumerChain? Chain { get; init; }

    /// <summary>
    /// Gets the consumer of the discovery drill (<see cref="DiscoveryScenarios"/>), which resolves the replicas through
    /// Microsoft.Extensions.ServiceDiscovery and the registry's endpoint provider, in place of the drill's own consumers.
    /// </summary>
    public DiscoveryConsumer? Discovery { get; init; }

    /// <summary>Gets the User-Agent of HAProxy's health checks, if not its own (<c>kube-probe/1.31</c>: the checks stand for the kubelet's).</summary>
    public string? CheckUserAgent { get; init; }

    /// <summary>Gets more settings for the library's replicas (environment variables, <c>GracefulLifecycle__...</c>).</summary>
    public IReadOnlyDictionary<string, string> ReplicaSettings { get; init; } = new Dictionary<string, string>();

    /// <summary>Gets a name for the run's result line; by default the scenario, the mode and the load.</summary>
    public string? Label { get; init; }

    public string Name => Label ?? (Load != DrillLoad.Http ? $"{Load}/{Scenario}"
        : Mode == BalancerMode.None ? Scenario.ToString()
        : $"{Scenario}/{Mode}").ToLowerInvariant();
}
