using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using GracefulLifecycle.Drill.Baseline;
using Microsoft.AspNetCore.SignalR;

// A typical service without graceful shutdown: a readiness endpoint that is 200 while the process runs,
// and the host's default SIGTERM handling (stop listening at once, then drain).
// Baseline:UseLibrary=true (Baseline__UseLibrary) adds the library, and only that: the same handlers, so the
// overhead benchmark compares one app with and without it (the library's own /ifready and /health replace these).
var builder = WebApplication.CreateBuilder(args);
var useLibrary = builder.Configuration.GetValue<bool>("Baseline:UseLibrary");
builder.Services.AddSignalR();
if (useLibrary)
{
    Library.Add(builder.Services);
}

var app = builder.Build();

app.UseWebSockets();

if (useLibrary)
{
    Library.Map(app);
}
else
{
    app.MapGet("/ifready", () => Results.Ok(new { status = "Healthy" }));
    app.MapGet("/health", () => Results.Ok(new { status = "Healthy" }));
}

app.MapGet("/", () => Results.Text("Hello from the baseline\n"));
app.MapGet("/slow", async (int ms, CancellationToken cancellationToken) =>
{
    await Task.Delay(ms, cancellationToken);
    return Results.Text($"Waited {ms} ms\n");
});

// The WebSocket echo as the ASP.NET Core docs write it: echo each text message until the client closes. Nothing
// here knows about shutdown, so the host's stop leaves the connection open until Kestrel aborts it.
app.Map("/ws", async (HttpContext context) =>
{
    if (!context.WebSockets.IsWebSocketRequest)
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        return;
    }

    using var socket = await context.WebSockets.AcceptWebSocketAsync();
    var buffer = new byte[4096];
    try
    {
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer, context.RequestAborted);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, context.RequestAborted);
                return;
            }

            await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, context.RequestAborted);
        }
    }
    catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
    {
        // The client went away or the connection was aborted: nothing left to echo to.
    }
});

app.MapHub<EchoHub>("/hub");

app.Run();

namespace GracefulLifecycle.Drill.Baseline
{
    /// <summary>The library's two calls, apart so that without the switch its assembly is not even loaded.</summary>
    internal static class Library
    {
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Add(IServiceCollection services) => services.AddGracefulLifecycle();

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Map(WebApplication app) => app.MapGracefulLifecycle();
    }

    /// <summary>The sample's hub, without the library: echoes what it is sent.</summary>
    public sealed class EchoHub : Hub
    {
        public string Echo(string message) => message;
    }
}
