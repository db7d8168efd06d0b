using Grpc.AspNetCore.HealthChecks;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Grpc;

/// <summary>
/// Makes every gRPC health service mapping include the lifecycle's health check, whatever else it selects: the whole
/// server is leaving, so every service answers NOT_SERVING, on demand (<c>Check</c>, the first <c>Watch</c> message)
/// as well as in the statuses the publisher caches. Runs after the application's own configuration.
/// </summary>
internal sealed class IncludeLifecycleInServiceMappings : IPostConfigureOptions<GrpcHealthChecksOptions>
{
    public void PostConfigure(string? name, GrpcHealthChecksOptions options)
    {
        foreach (var mapping in options.Services.ToList())
        {
            // A mapping with only the obsolete HealthResult predicate is left as it is (reported at startup).
            if (mapping.HealthCheckPredicate is { } filter && filter.Target is not LifecycleFilter)
            {
                options.Services.Map(mapping.Name, new LifecycleFilter(filter).Matches);
            }
        }
    }

    /// <summary>The application's filter, plus the lifecycle's check.</summary>
    private sealed class LifecycleFilter(Func<HealthCheckMapContext, bool> inner)
    {
        public bool Matches(HealthCheckMapContext context) =>
            context.Name == GracefulLifecycleOptions.HealthCheckName || inner(context);
    }
}
