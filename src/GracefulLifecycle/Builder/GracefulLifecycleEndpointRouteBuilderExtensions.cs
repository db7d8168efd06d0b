using GracefulLifecycle;
using GracefulLifecycle.Endpoints;
using GracefulLifecycle.Lifecycle;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the liveness, readiness and preStop endpoints.</summary>
public static class GracefulLifecycleEndpointRouteBuilderExtensions
{
    private static readonly string[] ProbeMethods = [HttpMethods.Get, HttpMethods.Head];
    private static readonly string[] PreStopMethods = [HttpMethods.Get, HttpMethods.Post];

    /// <summary>
    /// Maps <c>GET|HEAD /health</c> (liveness), <c>GET|HEAD /ifready</c> (readiness) and <c>GET|POST /prestop</c>
    /// at the paths set in <see cref="GracefulLifecycleOptions"/>. The endpoints short-circuit the rest of the
    /// middleware pipeline (authentication, rate limiting), so probes are cheap and always answered; the preStop
    /// endpoint applies its own access checks.
    /// </summary>
    /// <param name="endpoints">The endpoint route builder.</param>
    /// <returns>A builder for conventions that apply to all three endpoints.</returns>
    /// <exception cref="InvalidOperationException"><c>AddGracefulLifecycle</c> was not called.</exception>
    public static IEndpointConventionBuilder MapGracefulLifecycle(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);

        if (endpoints.ServiceProvider.GetService<LifecycleCoordinator>() is null)
        {
            throw new InvalidOperationException(
                "Unable to find the required services. Add them by calling 'IServiceCollection.AddGracefulLifecycle()' " +
                "in the application startup code before calling 'MapGracefulLifecycle()'.");
        }

        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<GracefulLifecycleOptions>>().Value;
        var handlers = endpoints.ServiceProvider.GetRequiredService<ProbeEndpoints>();
        endpoints.ServiceProvider.GetRequiredService<PreStopGate>().WarnIfWeaklyGuarded();

        var group = endpoints.MapGroup(string.Empty);
        group.MapMethods(options.LivenessPath, ProbeMethods, handlers.LivenessAsync).WithDisplayName("GracefulLifecycle liveness");
        group.MapMethods(options.ReadinessPath, ProbeMethods, handlers.ReadinessAsync).WithDisplayName("GracefulLifecycle readiness");
        group.MapMethods(options.PreStopPath, PreStopMethods, handlers.PreStopAsync).WithDisplayName("GracefulLifecycle preStop");
        group.ShortCircuit();
        group.ExcludeFromDescription();
        return group;
    }
}
