using System.Diagnostics.CodeAnalysis;
using GracefulLifecycle;
using GracefulLifecycle.Endpoints;
using GracefulLifecycle.Lifecycle;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the liveness, readiness and preStop endpoints, together or one by one.</summary>
public static class GracefulLifecycleEndpointRouteBuilderExtensions
{
    private static readonly string[] ProbeMethods = [HttpMethods.Get, HttpMethods.Head];
    private static readonly string[] PreStopMethods = [HttpMethods.Get, HttpMethods.Post];

    /// <summary>
    /// Maps <c>GET|HEAD /health</c> (liveness), <c>GET|HEAD /ifready</c> (readiness) and <c>GET|POST /prestop</c>
    /// at the paths set in <see cref="GracefulLifecycleOptions"/>. The endpoints short-circuit the rest of the
    /// middleware pipeline (authentication, rate limiting), so probes are cheap and always answered; the preStop
    /// endpoint applies its own access checks. To map them one by one (to move them to a management port, or to
    /// leave <c>/health</c> to Aspire's <c>MapDefaultEndpoints</c>), use <see cref="MapGracefulLiveness(IEndpointRouteBuilder)"/>,
    /// <see cref="MapGracefulReadiness(IEndpointRouteBuilder)"/> and <see cref="MapGracefulPreStop(IEndpointRouteBuilder)"/>, or their
    /// overloads that take a route pattern.
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
        var (options, handlers) = Resolve(endpoints, nameof(MapGracefulLifecycle));
        var group = endpoints.MapGroup(string.Empty);
        MapLiveness(group, options.LivenessPath, handlers);
        MapReadiness(group, options.ReadinessPath, handlers, null);
        MapPreStop(group, endpoints, options.PreStopPath, handlers);
        group.ExcludeFromDescription();
        return group;
    }

    /// <summary>
    /// Maps <c>GET|HEAD</c> <see cref="GracefulLifecycleOptions.LivenessPath"/> alone: 200 unless a health check tagged
    /// <see cref="GracefulLifecycleOptions.LivenessTag"/> is Unhealthy, whatever the phase (an instance that is leaving
    /// is not broken). Short-circuits the pipeline and always answers anonymously.
    /// </summary>
    /// <param name="endpoints">The endpoint route builder.</param>
    /// <returns>A builder for conventions of this endpoint only, such as <see cref="RequireLocalPort"/>.</returns>
    /// <exception cref="InvalidOperationException"><c>AddGracefulLifecycle</c> was not called.</exception>
    public static IEndpointConventionBuilder MapGracefulLiveness(this IEndpointRouteBuilder endpoints)
    {
        var (options, handlers) = Resolve(endpoints, nameof(MapGracefulLiveness));
        return MapLiveness(endpoints, options.LivenessPath, handlers).ExcludeFromDescription();
    }

    /// <summary>
    /// Maps <c>GET|HEAD</c> <paramref name="pattern"/> as the liveness endpoint, as <see cref="MapGracefulLiveness(IEndpointRouteBuilder)"/>
    /// maps <see cref="GracefulLifecycleOptions.LivenessPath"/>. The service registries are told the path it is mapped at.
    /// </summary>
    /// <param name="endpoints">The endpoint route builder.</param>
    /// <param name="pattern">A plain path such as <c>/healthz</c>: no route parameters, catch-all or query.</param>
    /// <returns>A builder for conventions of this endpoint only, such as <see cref="RequireLocalPort"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="pattern"/> is not a plain path.</exception>
    /// <exception cref="InvalidOperationException"><c>AddGracefulLifecycle</c> was not called.</exception>
    public static IEndpointConventionBuilder MapGracefulLiveness(this IEndpointRouteBuilder endpoints, [StringSyntax("Route")] string pattern)
    {
        var (_, handlers) = Resolve(endpoints, nameof(MapGracefulLiveness));
        CheckPattern(pattern, nameof(MapGracefulLiveness));
        return MapLiveness(endpoints, pattern, handlers).WithMetadata(new MappedPattern(nameof(MapGracefulLiveness))).ExcludeFromDescription();
    }

    /// <summary>
    /// Maps <c>GET|HEAD</c> <see cref="GracefulLifecycleOptions.ReadinessPath"/> alone: 503 unless the instance is
    /// Ready and its health checks pass. Without <paramref name="healthCheckOptions"/> the checks are those tagged
    /// <see cref="GracefulLifecycleOptions.ReadinessTag"/> and the answer is <c>{"status":…,"phase":…}</c>. With them,
    /// the checks are those its <see cref="HealthCheckOptions.Predicate"/> selects (all of them when it is
    /// <see langword="null"/>, as for <c>MapHealthChecks</c>), and the answer is written by its
    /// <see cref="HealthCheckOptions.ResponseWriter"/> with its <see cref="HealthCheckOptions.ResultStatusCodes"/>; the
    /// report then holds an entry named <c>GracefulLifecycle</c> with the phase in its data.
    /// </summary>
    /// <param name="endpoints">The endpoint route builder.</param>
    /// <param name="healthCheckOptions">Which checks to run and how to answer; may be <see langword="null"/>.</param>
    /// <returns>A builder for conventions of this endpoint only, such as <see cref="RequireLocalPort"/>.</returns>
    /// <exception cref="InvalidOperationException"><c>AddGracefulLifecycle</c> was not called.</exception>
    public static IEndpointConventionBuilder MapGracefulReadiness(this IEndpointRouteBuilder endpoints, HealthCheckOptions? healthCheckOptions)
    {
        var (options, handlers) = Resolve(endpoints, nameof(MapGracefulReadiness));
        return MapReadiness(endpoints, options.ReadinessPath, handlers, healthCheckOptions).ExcludeFromDescription();
    }

    /// <summary>
    /// Maps <c>GET|HEAD</c> <see cref="GracefulLifecycleOptions.ReadinessPath"/> alone with the default checks and answer,
    /// as <see cref="MapGracefulReadiness(IEndpointRouteBuilder, HealthCheckOptions?)"/> without options does.
    /// </summary>
    /// <param name="endpoints">The endpoint route builder.</param>
    /// <returns>A builder for conventions of this endpoint only, such as <see cref="RequireLocalPort"/>.</returns>
    /// <exception cref="InvalidOperationException"><c>AddGracefulLifecycle</c> was not called.</exception>
    public static IEndpointConventionBuilder MapGracefulReadiness(this IEndpointRouteBuilder endpoints) => MapGracefulReadiness(endpoints, healthCheckOptions: null);

    /// <summary>
    /// Maps <c>GET|HEAD</c> <paramref name="pattern"/> as the readiness endpoint, as
    /// <see cref="MapGracefulReadiness(IEndpointRouteBuilder, HealthCheckOptions?)"/> maps <see cref="GracefulLifecycleOptions.ReadinessPath"/>.
    /// The service registries are told the path it is mapped at (the one their health checks call).
    /// </summary>
    /// <param name="endpoints">The endpoint route builder.</param>
    /// <param name="pattern">A plain path such as <c>/readyz</c>: no route parameters, catch-all or query.</param>
    /// <param name="healthCheckOptions">Which checks to run and how to answer, as for the overload without a pattern.</param>
    /// <returns>A builder for conventions of this endpoint only, such as <see cref="RequireLocalPort"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="pattern"/> is not a plain path.</exception>
    /// <exception cref="InvalidOperationException"><c>AddGracefulLifecycle</c> was not called.</exception>
    public static IEndpointConventionBuilder MapGracefulReadiness(
        this IEndpointRouteBuilder endpoints, [StringSyntax("Route")] string pattern, HealthCheckOptions? healthCheckOptions)
    {
        var (_, handlers) = Resolve(endpoints, nameof(MapGracefulReadiness));
        CheckPattern(pattern, nameof(MapGracefulReadiness));
        return MapReadiness(endpoints, pattern, handlers, healthCheckOptions).WithMetadata(new MappedPattern(nameof(MapGracefulReadiness))).ExcludeFromDescription();
    }

    /// <summary>Maps <c>GET|HEAD</c> <paramref name="pattern"/> as the readiness endpoint with the default checks and answer.</summary>
    /// <param name="endpoints">The endpoint route builder.</param>
    /// <param name="pattern">A plain path such as <c>/readyz</c>: no route parameters, catch-all or query.</param>
    /// <returns>A builder for conventions of this endpoint only, such as <see cref="RequireLocalPort"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="pattern"/> is not a plain path.</exception>
    /// <exception cref="InvalidOperationException"><c>AddGracefulLifecycle</c> was not called.</exception>
    public static IEndpointConventionBuilder MapGracefulReadiness(this IEndpointRouteBuilder endpoints, [StringSyntax("Route")] string pattern) =>
        MapGracefulReadiness(endpoints, pattern, null);

    /// <summary>
    /// Maps <c>GET|POST</c> <see cref="GracefulLifecycleOptions.PreStopPath"/> alone: starts leaving and answers once
    /// the shutdown delay is served, for a Kubernetes <c>preStop.httpGet</c> hook; guarded by <see cref="PreStopOptions"/>.
    /// </summary>
    /// <param name="endpoints">The endpoint route builder.</param>
    /// <returns>A builder for conventions of this endpoint only, such as <see cref="RequireLocalPort"/>.</returns>
    /// <exception cref="InvalidOperationException"><c>AddGracefulLifecycle</c> was not called.</exception>
    public static IEndpointConventionBuilder MapGracefulPreStop(this IEndpointRouteBuilder endpoints)
    {
        var (options, handlers) = Resolve(endpoints, nameof(MapGracefulPreStop));
        return MapPreStop(endpoints, endpoints, options.PreStopPath, handlers).ExcludeFromDescription();
    }

    /// <summary>
    /// Maps <c>GET|POST</c> <paramref name="pattern"/> as the preStop endpoint, as <see cref="MapGracefulPreStop(IEndpointRouteBuilder)"/>
    /// maps <see cref="GracefulLifecycleOptions.PreStopPath"/>; the preStop hook must call that path.
    /// </summary>
    /// <param name="endpoints">The endpoint route builder.</param>
    /// <param name="pattern">A plain path such as <c>/internal/prestop</c>: no route parameters, catch-all or query.</param>
    /// <returns>A builder for conventions of this endpoint only, such as <see cref="RequireLocalPort"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="pattern"/> is not a plain path.</exception>
    /// <exception cref="InvalidOperationException"><c>AddGracefulLifecycle</c> was not called.</exception>
    public static IEndpointConventionBuilder MapGracefulPreStop(this IEndpointRouteBuilder endpoints, [StringSyntax("Route")] string pattern)
    {
        var (_, handlers) = Resolve(endpoints, nameof(MapGracefulPreStop));
        CheckPattern(pattern, nameof(MapGracefulPreStop));
        return MapPreStop(endpoints, endpoints, pattern, handlers).WithMetadata(new MappedPattern(nameof(MapGracefulPreStop))).ExcludeFromDescription();
    }

    /// <summary>
    /// Lets the endpoints match only on connections the server accepted on one of <paramref name="ports"/> (a management
    /// port that the Service does not expose). The port is the server's own, not the one in the Host header, and another
    /// endpoint may use the same path on another port. The server must listen on the port too, for example through
    /// <c>ASPNETCORE_URLS</c> or <c>ASPNETCORE_HTTP_PORTS</c>.
    /// </summary>
    /// <typeparam name="TBuilder">The type of the convention builder.</typeparam>
    /// <param name="builder">The convention builder, for example from <see cref="MapGracefulReadiness(IEndpointRouteBuilder)"/>.</param>
    /// <param name="ports">The local ports, from 1 to 65535.</param>
    /// <returns>The builder, for chaining.</returns>
    public static TBuilder RequireLocalPort<TBuilder>(this TBuilder builder, params int[] ports)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(ports);
        if (ports.Length == 0)
        {
            throw new ArgumentException("At least one port is required.", nameof(ports));
        }

        foreach (var port in ports)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(port, 1, nameof(ports));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535, nameof(ports));
        }

        var metadata = new LocalPortMetadata([.. ports]);
        builder.Add(b => b.Metadata.Add(metadata));
        return builder;
    }

    private static (GracefulLifecycleOptions Options, ProbeEndpoints Handlers) Resolve(IEndpointRouteBuilder endpoints, string method)
    {
        ArgumentNullException.ThrowIfNull(endpoints);

        if (endpoints.ServiceProvider.GetService<ILifecycleState>() is null)
        {
            throw new InvalidOperationException(
                "Unable to find the required services. Add them by calling 'IServiceCollection.AddGracefulLifecycle()' " +
                $"in the application startup code before calling '{method}()'.");
        }

        return (endpoints.ServiceProvider.GetRequiredService<IOptions<GracefulLifecycleOptions>>().Value,
            endpoints.ServiceProvider.GetRequiredService<ProbeEndpoints>());
    }

    private static void CheckPattern(string pattern, string method)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        if (!RoutePath.IsPlain(pattern))
        {
            throw new ArgumentException(
                $"{method}: '{pattern}' must be a plain path starting with '/', such as /healthz: no route parameters ({{ }}), catch-all (*), query (?), " +
                "fragment (#), escapes (%), backslashes, spaces or empty or dot segments. A probe must answer on one known path, the one a registry or the kubelet calls.",
                nameof(pattern));
        }
    }

    private static IEndpointConventionBuilder MapLiveness(IEndpointRouteBuilder endpoints, string path, ProbeEndpoints handlers)
    {
        var builder = endpoints.MapMethods(path, ProbeMethods, handlers.LivenessAsync).WithDisplayName(EndpointNames.Liveness).ShortCircuit();
        builder.Finally(static b => RemoveSecurityMetadata(b.Metadata));
        return builder;
    }

    private static IEndpointConventionBuilder MapReadiness(IEndpointRouteBuilder endpoints, string path, ProbeEndpoints handlers, HealthCheckOptions? custom)
    {
        var handler = custom is null ? handlers.ReadinessAsync : handlers.Readiness(custom);
        var builder = endpoints.MapMethods(path, ProbeMethods, handler).WithDisplayName(EndpointNames.Readiness).ShortCircuit();
        builder.Finally(static b => RemoveSecurityMetadata(b.Metadata));
        return builder;
    }

    private static IEndpointConventionBuilder MapPreStop(IEndpointRouteBuilder endpoints, IEndpointRouteBuilder root, string path, ProbeEndpoints handlers)
    {
        root.ServiceProvider.GetRequiredService<PreStopGate>().WarnIfWeaklyGuarded();
        var builder = endpoints.MapMethods(path, PreStopMethods, handlers.PreStopAsync).WithDisplayName(EndpointNames.PreStop).ShortCircuit();
        builder.Finally(static b => JoinPipelineIfSecured(b.Metadata));
        return builder;
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
