using System.Net;
using GracefulLifecycle.Adaptive;
using GracefulLifecycle.Draining;
using GracefulLifecycle.Lifecycle;
using GracefulLifecycle.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using GracefulLifecycle.TestSupport;

namespace GracefulLifecycle.Tests.Draining;

/// <summary>
/// What the library adds to a request allocates nothing once the request's peer is known: counted in bytes on the
/// calling thread (the middleware runs synchronously to the end here), on a fresh context per request as a server
/// builds it, so that a lazily created wrapper on the context (<see cref="HttpContext.Connection"/>) would show.
/// </summary>
public sealed class RequestPathAllocationTests
{
    private static readonly RequestDelegate Completed = static _ => Task.CompletedTask;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ARequestWhileReady_AllocatesNothing(bool adaptive)
    {
        using var h = LifecycleTestServices.Build(options: o => o.AdaptiveDelay.Enabled = adaptive);
        await h.Coordinator.RunStartupAsync(CancellationToken.None);
        Assert.Equal(LifecyclePhase.Ready, h.State.Phase);
        var middleware = Middleware(h.Services);

        // The first request meets its peer (its counters are allocated once) and warms every path up.
        for (var i = 0; i < 3; i++)
        {
            await middleware.InvokeAsync(NewContext());
        }

        var context = NewContext();
        var before = GC.GetAllocatedBytesForCurrentThread();
        var task = middleware.InvokeAsync(context);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(task.IsCompletedSuccessfully);
        Assert.Equal(0, allocated);
        Assert.Equal(0, h.Requests.InFlight);
        if (adaptive)
        {
            // It was counted, for the peer the connection feature names.
            var traffic = h.Services.GetRequiredService<TrafficMonitor>();
            traffic.MarkLeaving();
            Assert.Equal(1, traffic.WhenAllQuiet().Sending);
        }
    }

    private static LifecycleMiddleware Middleware(IServiceProvider services) => new(
        Completed,
        services.GetRequiredService<ILifecycleState>(),
        services.GetRequiredService<RequestTracker>(),
        services.GetRequiredService<WebSocketTracker>(),
        services.GetRequiredService<TrafficMonitor>());

    /// <summary>A context over the features a server sets, none of the context's own wrappers touched yet.</summary>
    private static DefaultHttpContext NewContext()
    {
        var features = new FeatureCollection();
        features.Set<IHttpRequestFeature>(new HttpRequestFeature { Method = HttpMethods.Get, Path = "/", Protocol = "HTTP/1.1" });
        features.Set<IHttpResponseFeature>(new HttpResponseFeature());
        features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(Stream.Null));
        features.Set<IHttpConnectionFeature>(new HttpConnectionFeature { RemoteIpAddress = IPAddress.Loopback });
        return new DefaultHttpContext(features);
    }
}
