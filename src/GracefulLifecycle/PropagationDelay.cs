namespace GracefulLifecycle;

/// <summary>
/// How long after deregistration a registry's consumers may still call the instance, term by term along the chain:
/// the registry's own staleness, the consumers' registry refresh, their load balancer's cache, a margin. The shutdown
/// delay is raised to <see cref="Total"/>; the adaptive delay may end the consumers' part early on evidence that they
/// stopped calling, never before <see cref="RegistrySide"/>.
/// </summary>
public sealed class PropagationDelay
{
    /// <summary>Initializes a new instance of the <see cref="PropagationDelay"/> class.</summary>
    /// <param name="terms">The terms, in the order of the chain. Their sum is the delay.</param>
    /// <exception cref="OverflowException">The terms add up to more than <see cref="TimeSpan.MaxValue"/>.</exception>
    public PropagationDelay(IEnumerable<PropagationTerm> terms)
    {
        ArgumentNullException.ThrowIfNull(terms);
        Terms = terms.ToArray();
        foreach (var term in Terms)
        {
            ArgumentNullException.ThrowIfNull(term, nameof(terms));
            Total += term.Duration;
            if (term.Stage == PropagationStage.Registry)
            {
                RegistrySide += term.Duration;
            }
        }
    }

    /// <summary>Gets a delay of zero, with no terms: consumers learn of the deregistration at once.</summary>
    public static PropagationDelay None { get; } = new([]);

    /// <summary>Gets the terms, in the order of the chain.</summary>
    public IReadOnlyList<PropagationTerm> Terms { get; }

    /// <summary>Gets the sum of the terms: how long consumers may still call the instance after deregistration.</summary>
    public TimeSpan Total { get; }

    /// <summary>
    /// Gets the sum of the <see cref="PropagationStage.Registry"/> terms: how long the registry itself may still hand the
    /// instance to a consumer that asks, whatever the consumers already calling have shown.
    /// </summary>
    public TimeSpan RegistrySide { get; }

    /// <summary>Returns the terms as the logs show them, joined by <c>+</c>, or <c>none</c> when there are none.</summary>
    /// <returns>The terms.</returns>
    public override string ToString() => Terms.Count == 0 ? "none" : string.Join(" + ", Terms);
}
