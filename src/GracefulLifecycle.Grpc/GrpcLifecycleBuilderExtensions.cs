using GracefulLifecycle;
using GracefulLifecycle.Grpc;
using Grpc.AspNetCore.HealthChecks;
using Grpc.AspNetCore.Server;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds gRPC health (<c>grpc.health.v1</c>) that follows the lifecycle.</summary>
public static class GrpcLifecycleBuilderExtensions
{
    /// <summary>
    /// Adds the gRPC health service of Grpc.AspNetCore.HealthChecks (<c>AddGrpcHealthChecks</c>) and ties it to the
    /// lifecycle: <c>Check</c> and <c>Watch</c> answer NOT_SERVING for every service until the instance is ready and
    /// from the moment it starts leaving (a <c>Watch</c> stream gets the change at once, not at the next health check
    /// publication), and follow the health checks in between. Map the service with
    /// <c>app.MapGrpcHealthChecksService()</c>. Calling it again adds nothing but the new configure delegate.
    /// </summary>
    /// <param name="builder">The lifecycle builder.</param>
    /// <param name="configure">Maps gRPC service names to health checks; may be <see langword="null"/> for the default mapping
    /// of the empty service name (the server as a whole, what a Kubernetes <c>grpc:</c> probe asks) to every check.</param>
    /// <returns>The builder, for chaining.</returns>
    public static IGracefulLifecycleBuilder AddGrpcHealthChecks(this IGracefulLifecycleBuilder builder, Action<GrpcHealthChecksOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);

        if (configure is null)
        {
            builder.Services.AddGrpcHealthChecks();
        }
        else
        {
            builder.Services.AddGrpcHealthChecks(configure);
        }

        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<GrpcHealthChecksOptions>, IncludeLifecycleInServiceMappings>());
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, LifecycleGrpcHealth>());
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<GrpcServiceOptions>, AddWatchRepeatFilter>());
        return builder;
    }
}
