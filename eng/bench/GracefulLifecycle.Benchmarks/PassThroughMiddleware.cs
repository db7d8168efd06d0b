using Microsoft.AspNetCore.Http;

namespace GracefulLifecycle.Benchmarks;

/// <summary>The baseline: a middleware of the same shape as the library's (async, awaits next) that does nothing else.</summary>
internal sealed class PassThroughMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        await next(context).ConfigureAwait(false);
    }
}
