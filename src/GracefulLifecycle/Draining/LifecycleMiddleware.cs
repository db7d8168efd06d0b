using GracefulLifecycle.Adaptive;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;

namespace GracefulLifecycle.Draining;

/// <summary>
/// Outermost middleware: tracks every request for the drain, and once leaving has started tells keep-alive
/// clients to reconnect elsewhere (HTTP/1.x <c>Connection: close</c>, HTTP/2 and HTTP/3 GOAWAY). WebSocket
/// upgrades are tracked too, so the drain can close them with 1001 (Going Away).
/// </summary>
internal sealed class LifecycleMiddleware(
    RequestDelegate next, ILifecycleState lifecycle, RequestTracker requests, WebSocketTracker webSockets, TrafficMonitor traffic)
{
    private static readonly Action<object?> AbortRequest = static state => ((HttpContext)state!).Abort();

    public Task InvokeAsync(HttpContext context)
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
        Task task;
        try
        {
            webSocket = WebSocketUpgrades.Track(context, webSockets);
            task = next(context);
        }
        catch
        {
            End(webSocket, registration);
            throw;
        }

        // Most requests complete synchronously here (a small response buffered by the server): ending them inline
        // spares every such request an async state machine.
        if (task.IsCompletedSuccessfully)
        {
            End(webSocket, registration);
            return task;
        }

        return AwaitAndEndAsync(task, webSocket, registration);
    }

    private async Task AwaitAndEndAsync(Task task, WebSocketUpgrades.Tracking? webSocket, CancellationTokenRegistration registration)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        finally
        {
            End(webSocket, registration);
        }
    }

    private void End(WebSocketUpgrades.Tracking? webSocket, CancellationTokenRegistration registration)
    {
        webSocket?.Dispose();
        registration.Dispose();
        requests.Exit();
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
