using System.Net.Sockets;

namespace GracefulLifecycle.Drill.Consumer;

/// <summary>
/// How every consumer model calls the replica it picked: one pooled client, the path and query passed through, and no
/// retry. A failed call is answered 502, so the load generator counts it. A consumer process runs one model, so one
/// client for the process.
/// </summary>
internal static class Upstream
{
    private static readonly HttpClient Client = new(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5), MaxConnectionsPerServer = 64 })
    {
        Timeout = TimeSpan.FromSeconds(10),
    };

    public static Task<IResult> ForwardAsync(Uri target, HttpContext context, string? path) => ForwardAsync(Client, target, context, path);

    /// <summary>Calls through <paramref name="client"/>: the resolver consumer's, whose handler resolves the service name in <paramref name="target"/>.</summary>
    public static async Task<IResult> ForwardAsync(HttpClient client, Uri target, HttpContext context, string? path)
    {
        try
        {
            using var response = await client.GetAsync(new Uri(target, (path ?? string.Empty) + context.Request.QueryString), context.RequestAborted);
            var text = await response.Content.ReadAsStringAsync(context.RequestAborted);
            return response.IsSuccessStatusCode ? Results.Text(text) : Results.StatusCode(502);
        }
        catch (Exception ex) when (ex is HttpRequestException or SocketException)
        {
            return Results.StatusCode(502);
        }
    }
}
