using GracefulLifecycle.Adaptive;
using GracefulLifecycle.Lifecycle;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;

namespace GracefulLifecycle.Draining;

/// <summary>
/// Outermost middleware: tracks every request for the drain, and once leaving has started tells keep-alive
/// clients to reconnect elsewhere (HTTP/1.x <c>Connection: close</c>, HTTP/2 and HTTP/3 GOAWAY). WebSocket
/// upgrades are tracked too, so the drain can close them with 1001 (Going Away).
/// </summary>
internal sealed class LifecycleMiddleware(
    RequestDelegate next, LifecycleCoordinator lifecycle, RequestTracker requests, WebSocketTracker webSockets, TrafficMonitor traffic)
{
    private static readonly Action<object?> AbortRequest = static state => ((HttpContext)state!).Abort();

    public async Task InvokeAsync(HttpContext context)
    {
        if (lifecycle.Phase >= LifecyclePhase.Leaving)
        {
            AskClientToReconnect(context);
            traffic.RecordAfterLeaving(context);
        }
        else if (traffic.Enabled)
        {
            // The adaptive delay's evidence: who sends, and how often, before leaving.
            traffic.Record(context);
        }

        requests.Enter();
        var registration = requests.AbortToken.UnsafeRegister(AbortRequest, context);
        WebSocketUpgrades.Tracking? webSocket = null;
        try
        {
            webSocket = WebSocketUpgrades.Track(context, webSockets);
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            webSocket?.Dispose();
            registration.Dispose();
            requests.Exit();
        }
    }

    private static void AskClientToReconnect(HttpContext context)
    {
        if (HttpProtocol.IsHttp11(context.Request.Protocol) || HttpProtocol.IsHttp10(context.Request.Protocol))
        {
            // Kestrel closes the connection after a response that carries this header.
            context.Response.Headers.Connection = "close";
        }
        else
        {
            // On HTTP/2 and HTTP/3 Kestrel answers this with GOAWAY; streams in flight complete.
            context.Features.Get<IConnectionLifetimeNotificationFeature>()?.RequestClose();
        }
    }
}
