using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;

namespace GracefulLifecycle.Testing;

/// <summary>
/// <c>TestServer</c> has no connection, so the preStop endpoint, which decides on the transport's own addresses,
/// refuses its requests. In a test host a request with no connection at all comes from the test itself: it is given
/// loopback endpoints. A request over a real socket keeps its addresses.
/// </summary>
internal sealed class TestServerLoopbackStartupFilter : IStartupFilter
{
    private static readonly IPEndPoint Remote = new(IPAddress.Loopback, 50000);
    private static readonly IPEndPoint Local = new(IPAddress.Loopback, 80);

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(static (context, inner) =>
        {
            if (context.Features.Get<IConnectionSocketFeature>() is null && context.Features.Get<IConnectionEndPointFeature>() is null)
            {
                context.Features.Set<IConnectionEndPointFeature>(new LoopbackEndPoints());
            }

            return inner(context);
        });
        next(app);
    };

    private sealed class LoopbackEndPoints : IConnectionEndPointFeature
    {
        public EndPoint? LocalEndPoint { get; set; } = Local;

        public EndPoint? RemoteEndPoint { get; set; } = Remote;
    }
}
