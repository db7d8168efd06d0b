using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.WebhookRegistry.Tests;

/// <summary>The webhook side of the sample registry, on real Kestrel at a port the OS picks: instances in a dictionary.</summary>
internal sealed class FakeWebhook : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, string> _instances = new(StringComparer.Ordinal);
    private WebApplication _app = null!;
    private int _calls;

    public Uri Url { get; private set; } = null!;

    public int CallCount => Volatile.Read(ref _calls);

    public IReadOnlyCollection<string> Instances => [.. _instances.Keys];

    public static async Task<FakeWebhook> StartAsync()
    {
        var webhook = new FakeWebhook();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Use((context, next) =>
        {
            Interlocked.Increment(ref webhook._calls);
            return next(context);
        });
        app.MapPut("/hooks/instances/{id}", async (string id, HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body);
            webhook._instances[id] = await reader.ReadToEndAsync();
            return Results.NoContent();
        });
        app.MapPut("/hooks/instances/{id}/heartbeat", (string id) => webhook._instances.ContainsKey(id) ? Results.NoContent() : Results.NotFound());
        app.MapDelete("/hooks/instances/{id}", (string id) => webhook._instances.TryRemove(id, out _) ? Results.NoContent() : Results.NotFound());
        await app.StartAsync();
        webhook._app = app;
        webhook.Url = new Uri(app.Urls.First() + "/hooks/");
        return webhook;
    }

    public void ForgetAll() => _instances.Clear();

    public string? Instance(string id) => _instances.GetValueOrDefault(id);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
