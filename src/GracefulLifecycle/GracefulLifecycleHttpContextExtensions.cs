using GracefulLifecycle;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Http;

/// <summary>The lifecycle's tokens for request handlers that stream.</summary>
public static class GracefulLifecycleHttpContextExtensions
{
    private static readonly object Key = new();

    /// <summary>
    /// Gets a token that fires when the drain starts (<see cref="IGracefulLifecycle.Draining"/>) or the request is
    /// aborted, whichever comes first. A handler that streams (server-sent events, a gRPC server stream, a long poll)
    /// ends its response at the next message boundary when it fires, so the client sees a normal end of stream and
    /// reconnects elsewhere, instead of a reset at the drain deadline.
    /// </summary>
    /// <param name="context">The request.</param>
    /// <returns>The token; the same one for every call on the same request.</returns>
    /// <exception cref="InvalidOperationException"><c>AddGracefulLifecycle</c> was not called.</exception>
    public static CancellationToken GetDrainingToken(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Items.TryGetValue(Key, out var existing))
        {
            return ((CancellationTokenSource)existing!).Token;
        }

        var lifecycle = context.RequestServices.GetService<IGracefulLifecycle>() ?? throw new InvalidOperationException(
            "Unable to find the required services. Add them by calling 'IServiceCollection.AddGracefulLifecycle()' " +
            "in the application startup code before calling 'GetDrainingToken()'.");
        var source = CancellationTokenSource.CreateLinkedTokenSource(lifecycle.Draining, context.RequestAborted);
        context.Response.RegisterForDispose(source);
        context.Items[Key] = source;
        return source.Token;
    }
}
