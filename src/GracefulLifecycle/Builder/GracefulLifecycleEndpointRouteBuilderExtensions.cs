using GracefulLifecycle;
using GracefulLifecycle.Endpoints;
using GracefulLifecycle.Lifecycle;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
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
    /// <remarks>
    /// Conventions on the returned builder apply to all three endpoints, except security: the probes always answer
    /// anonymously (the kubelet sends no credentials, and a 401 on liveness is a restart loop), so authorization, CORS
    /// and antiforgery metadata are dropped from them. On the preStop endpoint such metadata is kept and the endpoint
    /// then no longer short-circuits: it runs through the application's authentication and authorization middleware
    /// like any secured endpoint (the preStop hook must send credentials, for example through <c>httpHeaders</c>),
    /// and its own access checks still apply on top.
    /// </remarks>
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
        group.MapMethods(options.LivenessPath, ProbeMethods, handlers.LivenessAsync).WithDisplayName("GracefulLifecycle liveness")
            .Finally(static b => RemoveSecurityMetadata(b.Metadata));
        group.MapMethods(options.ReadinessPath, ProbeMethods, handlers.ReadinessAsync).WithDisplayName("GracefulLifecycle readiness")
            .Finally(static b => RemoveSecurityMetadata(b.Metadata));
        group.MapMethods(options.PreStopPath, PreStopMethods, handlers.PreStopAsync).WithDisplayName("GracefulLifecycle preStop")
            .Finally(static b => JoinPipelineIfSecured(b.Metadata));
        group.ShortCircuit();
        group.ExcludeFromDescription();
        return group;
    }

    // Routing refuses to short-circuit an endpoint that carries any of these (it would skip the middleware that
    // enforces them) and answers 500 instead.
    private static bool IsSecurityMetadata(object item) =>
        item is IAuthorizeData or AuthorizationPolicy or IAuthorizationRequirementData or IAllowAnonymous or ICorsMetadata or IAntiforgeryMetadata;

    private static void RemoveSecurityMetadata(IList<object> metadata)
    {
        for (var i = metadata.Count - 1; i >= 0; i--)
        {
            if (IsSecurityMetadata(metadata[i]))
            {
                metadata.RemoveAt(i);
            }
        }
    }

    private static void JoinPipelineIfSecured(IList<object> metadata)
    {
        if (!metadata.Any(IsSecurityMetadata))
        {
            return;
        }

        for (var i = metadata.Count - 1; i >= 0; i--)
        {
            // ShortCircuit() adds this internal type and nothing else; the test of RequireAuthorization locks the name in.
            if (metadata[i].GetType().Name == "ShortCircuitMetadata")
            {
                metadata.RemoveAt(i);
            }
        }
    }
}
