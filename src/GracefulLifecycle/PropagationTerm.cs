namespace GracefulLifecycle;

/// <summary>One term of a <see cref="PropagationDelay"/>: how long one stage of the chain keeps the instance, and which setting says so.</summary>
public sealed class PropagationTerm
{
    /// <summary>Initializes a new instance of the <see cref="PropagationTerm"/> class.</summary>
    /// <param name="stage">Where along the chain the term lies.</param>
    /// <param name="duration">How long that stage may keep the instance; zero or more.</param>
    /// <param name="source">
    /// The configuration key the figure comes from, with what set it when it is not the key itself, such as
    /// <c>GracefulLifecycle:Eureka:LoadBalancerCacheTtl from ConsumerProfile SpringCloudLoadBalancer</c>. Shown in the
    /// startup log and in the budget error, so a user knows what to change.
    /// </param>
    public PropagationTerm(PropagationStage stage, TimeSpan duration, string source)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(duration, TimeSpan.Zero);
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        Stage = stage;
        Duration = duration;
        Source = source;
    }

    /// <summary>Gets where along the chain the term lies.</summary>
    public PropagationStage Stage { get; }

    /// <summary>Gets how long that stage may keep the instance.</summary>
    public TimeSpan Duration { get; }

    /// <summary>Gets the configuration key the figure comes from, with what set it.</summary>
    public string Source { get; }

    /// <summary>Returns the term as the logs show it: <c>load-balancer cache 00:00:35 (GracefulLifecycle:…)</c>.</summary>
    /// <returns>The stage, the duration and the source.</returns>
    public override string ToString() => $"{Describe(Stage)} {Duration:c} ({Source})";

    internal static string Describe(PropagationStage stage) => stage switch
    {
        PropagationStage.Registry => "registry cache",
        PropagationStage.ConsumerRefresh => "consumer refresh",
        PropagationStage.LoadBalancerCache => "load-balancer cache",
        PropagationStage.Margin => "margin",
        _ => stage.ToString(),
    };
}
