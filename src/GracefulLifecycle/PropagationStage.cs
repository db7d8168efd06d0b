namespace GracefulLifecycle;

/// <summary>Where along the chain from a registry to the consumers that call the instance a <see cref="PropagationTerm"/> lies.</summary>
public enum PropagationStage
{
    /// <summary>
    /// The registry itself still serves the old view to consumers that ask (Eureka's read-only response cache). A
    /// consumer that has not called yet can still learn the instance from the registry until this part has passed.
    /// </summary>
    Registry = 0,

    /// <summary>A consumer's registry client refreshes its copy of the registry at this interval (Eureka's registry fetch, a poll).</summary>
    ConsumerRefresh = 1,

    /// <summary>A consumer's load balancer caches the list of instances over its registry client (Spring Cloud LoadBalancer, Ribbon).</summary>
    LoadBalancerCache = 2,

    /// <summary>Time added for slack: timers that fire late, a request already on its way.</summary>
    Margin = 3,
}
