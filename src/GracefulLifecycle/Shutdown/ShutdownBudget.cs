using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Shutdown;

/// <summary>
/// Builds the <see cref="ShutdownPlan"/> with the registries' delays and fails startup when it does not fit in the
/// termination grace period. It runs when the plan is first resolved (host configuration, at startup), after the
/// options were validated, so the registries are built by the container as usual and may depend on the options.
/// </summary>
internal static class ShutdownBudget
{
    private const string Prefix = GracefulLifecycleOptions.SectionName + ":";

    /// <exception cref="OptionsValidationException">The budget exceeds the grace period, or cannot be computed.</exception>
    public static ShutdownPlan Plan(GracefulLifecycleOptions options, IEnumerable<IServiceRegistry> registries, TimeSpan? hostShutdownTimeout = null)
    {
        string? failure;
        ShutdownPlan? plan = null;
        try
        {
            plan = new ShutdownPlan(options, registries, hostShutdownTimeout);
            failure = Check(plan);
        }
        catch (OverflowException)
        {
            // Only a registry's propagation delay can still be out of range here: each option is validated already.
            failure =
                $"The shutdown budget ({Prefix}Registration:{nameof(options.Registration.DeregistrationTimeout)} + the shutdown delay raised to the registries' propagation delays + " +
                $"{Prefix}{nameof(options.DrainTimeout)} + {Prefix}{nameof(options.ShutdownMargin)}) is too large to compute; lower the registries' cache intervals.";
        }

        return failure is null
            ? plan!
            : throw new OptionsValidationException(Options.DefaultName, typeof(GracefulLifecycleOptions), [failure]);
    }

    /// <summary>Returns the failure message naming every option involved, or <see langword="null"/> when the plan fits.</summary>
    public static string? Check(ShutdownPlan plan)
    {
        var options = plan.Options;
        if (plan.TerminationBudget <= plan.TerminationGracePeriod)
        {
            return null;
        }

        if (plan.PreStopSleep > TimeSpan.Zero)
        {
            var deregistrationTerm = plan.HasRegistries
                ? $"{Prefix}Registration:{nameof(options.Registration.DeregistrationTimeout)} ({plan.DeregistrationTimeout}) + "
                : string.Empty;
            var propagation = plan.DelaySetByTerms is { } setBy
                ? $", at least the propagation delay of {plan.DelaySetBy}, {setBy.Total}: {setBy}"
                : plan.HasRegistries ? ", at least the registries' propagation delay" : string.Empty;
            return
                $"{Prefix}PreStop:{nameof(options.PreStop.Sleep)} ({plan.PreStopSleep}) + {deregistrationTerm}the delay left after SIGTERM ({plan.DelayAfterPreStopSleep}: " +
                $"{Prefix}{nameof(options.ShutdownDelay)} {plan.ConfiguredShutdownDelay} less the sleep{propagation}" +
                $") + {Prefix}{nameof(options.DrainTimeout)} ({plan.DrainTimeout}) + {Prefix}{nameof(options.ShutdownMargin)} ({plan.ShutdownMargin}) = {plan.TerminationBudget} " +
                $"exceeds {Prefix}{nameof(options.TerminationGracePeriod)} ({plan.TerminationGracePeriod}): the kubelet counts the grace period from the start of the preStop sleep " +
                "and would kill the process before the drain ends. Shorten the sleep or the drain, or raise the grace period (and terminationGracePeriodSeconds with it)" +
                ConsumerRemedy(plan);
        }

        var delay = plan.DelaySetByTerms is not { } terms
            ? $"{Prefix}{nameof(options.ShutdownDelay)} ({plan.ShutdownDelay})"
            : $"the shutdown delay ({plan.ShutdownDelay}, raised from {Prefix}{nameof(options.ShutdownDelay)} {plan.ConfiguredShutdownDelay} by the propagation delay of {plan.DelaySetBy}: {terms})";
        var deregistration = plan.HasRegistries
            ? $"{Prefix}Registration:{nameof(options.Registration.DeregistrationTimeout)} ({plan.DeregistrationTimeout}) + "
            : string.Empty;
        return
            $"{deregistration}{delay} + {Prefix}{nameof(options.DrainTimeout)} ({plan.DrainTimeout}) " +
            $"+ {Prefix}{nameof(options.ShutdownMargin)} ({plan.ShutdownMargin}) = {plan.Total} exceeds {Prefix}{nameof(options.TerminationGracePeriod)} " +
            $"({plan.TerminationGracePeriod}): the orchestrator would kill the process before the drain ends. " +
            (plan.DelaySetByTerms is null
                ? "Shorten the delay or the drain, or raise the grace period (and terminationGracePeriodSeconds with it)."
                : $"Raise {Prefix}{nameof(options.TerminationGracePeriod)} to at least {plan.TerminationBudget} (and terminationGracePeriodSeconds with it), or shorten the drain" +
                  ConsumerRemedy(plan));
    }

    /// <summary>
    /// What to change when the registry's consumers are faster than its propagation delay assumes: the settings its
    /// consumer terms come from (a consumer profile, a load-balancer cache, a refresh interval), named by the terms.
    /// </summary>
    private static string ConsumerRemedy(ShutdownPlan plan)
    {
        if (plan.DelaySetByTerms is not { } terms)
        {
            return ".";
        }

        var sources = terms.Terms
            .Where(t => t.Duration > TimeSpan.Zero && t.Stage is PropagationStage.ConsumerRefresh or PropagationStage.LoadBalancerCache)
            .Select(t => t.Source)
            .Distinct(StringComparer.Ordinal)
            .ToArray();
        return sources.Length == 0
            ? "."
            : $"; or, if the consumers of {plan.DelaySetBy} refresh or cache for less than that, declare them in the settings those terms come from: {string.Join("; ", sources)}.";
    }
}
