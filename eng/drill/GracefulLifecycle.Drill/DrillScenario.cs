namespace GracefulLifecycle.Drill;

/// <summary>What rolls and how it leaves.</summary>
internal enum DrillScenario
{
    /// <summary>A plain ASP.NET Core app without the library, SIGTERM only.</summary>
    Baseline,

    /// <summary>The sample with the library, SIGTERM only.</summary>
    SigTerm,

    /// <summary>The sample with the library, a preStop call to /prestop, then SIGTERM.</summary>
    PreStop,

    /// <summary>The sample registered in etcd, called by a consumer that discovers it there; SIGTERM only.</summary>
    Etcd,

    /// <summary>
    /// The sample registered in Eureka, called by consumers modelled on Spring Cloud's: a registry fetch and a
    /// load-balancer cache over the server's read-only response cache (<see cref="DrillSettings.Chain"/>); SIGTERM only.
    /// </summary>
    Eureka,

    /// <summary>
    /// The sample registered with a Consul agent, called by consumers modelled on Spring Cloud Consul's: critical
    /// instances listed, under a load-balancer cache (<see cref="DrillSettings.Chain"/>); SIGTERM only.
    /// </summary>
    Consul,
}

/// <summary>How HAProxy stands in for the Kubernetes Service.</summary>
internal enum BalancerMode
{
    /// <summary>No balancer: the consumer discovers the replicas itself.</summary>
    None,

    /// <summary><c>mode tcp</c>, like kube-proxy: an established connection stays on its replica.</summary>
    Tcp,

    /// <summary><c>mode http</c> with backend connection reuse, like an ingress or Envoy.</summary>
    Http,
}

/// <summary>What keeps the service busy during the rollout.</summary>
internal enum DrillLoad
{
    /// <summary>wrk: short HTTP requests over kept-alive connections.</summary>
    Http,

    /// <summary>WebSocket clients on <c>/ws</c>, each sending a numbered text message every 100 ms and expecting its echo.</summary>
    WebSocket,

    /// <summary>SignalR clients with automatic reconnect on <c>/hub</c>, each invoking <c>Echo</c> every 100 ms.</summary>
    SignalR,
}
