using GracefulLifecycle.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace GracefulLifecycle.WebhookRegistry.Tests;

/// <summary>
/// The webhook side of the sample registry, on real Kestrel at a port the OS picks: instances in a dictionary. The
/// recording and the controls are those of every registry fake (<see cref="FakeRegistryServer{TCall}"/>).
/// </summary>
internal sealed class FakeWebhook : FakeRegistryServer<WebhookCall>
{
    private readonly Dictionary<string, string> _instances = new(StringComparer.Ordinal);

    private FakeWebhook()
    {
    }

    /// <summary>Gets the webhook's base URL, <c>http://127.0.0.1:{port}/hooks/</c>, named after <c>WebhookRegistryOptions.Url</c>.</summary>
    public Uri Url { get; private set; } = null!;

    public IReadOnlyCollection<string> Instances
    {
        get
        {
            lock (Gate)
            {
                return [.. _instances.Keys];
            }
        }
    }

    public static async Task<FakeWebhook> StartAsync()
    {
        var webhook = new FakeWebhook();
        await webhook.StartServerAsync();
        webhook.Url = new Uri(webhook.RootUrl, "hooks/");
        return webhook;
    }

    public string? Instance(string id)
    {
        lock (Gate)
        {
            return _instances.GetValueOrDefault(id);
        }
    }

    public override bool Forget(string id)
    {
        lock (Gate)
        {
            return _instances.Remove(id);
        }
    }

    protected override void Map(WebApplication app)
    {
        app.MapPut("/hooks/instances/{id}", (string id, HttpContext context) =>
        {
            lock (Gate)
            {
                _instances[id] = BodyOf(context);
            }

            return Results.NoContent();
        });
        app.MapPut("/hooks/instances/{id}/heartbeat", (string id) =>
        {
            lock (Gate)
            {
                return _instances.ContainsKey(id) ? Results.NoContent() : Results.NotFound();
            }
        });
        app.MapDelete("/hooks/instances/{id}", (string id) =>
        {
            lock (Gate)
            {
                return _instances.Remove(id) ? Results.NoContent() : Results.NotFound();
            }
        });
    }

    protected override WebhookCall CreateCall(int sequence, HttpContext context, string body, long arrivedAt) =>
        new(sequence, context.Request.Method, context.Request.Path.Value ?? string.Empty, context.Request.QueryString.Value ?? string.Empty, body, arrivedAt);
}
