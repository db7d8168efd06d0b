using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

// A consumer in the style of a Spring Cloud client (Consumer:Registry unset or etcd): it reads the replicas of a service from etcd every
// Consumer:RefreshInterval, picks one per request round-robin, and calls it over a pooled keep-alive HttpClient.
// It never retries: a failed upstream call is answered 502, so the load generator counts it.
var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
if (builder.Configuration["Consumer:Registry"] is "resolver")
{
    // The discovery drill: Microsoft.Extensions.ServiceDiscovery over the registry's endpoint provider.
    GracefulLifecycle.Drill.Consumer.ResolverConsumer.Run(builder);
    return;
}

if (builder.Configuration["Consumer:Registry"] is "eureka" or "consul")
{
    // The consumer-chain drill: Spring Cloud consumers over Eureka or Consul, each with a load-balancer cache.
    GracefulLifecycle.Drill.Consumer.ChainConsumer.Run(builder);
    return;
}

var etcd = new Uri(builder.Configuration["Consumer:Etcd"] ?? "http://127.0.0.1:2379/");
var prefix = builder.Configuration["Consumer:Prefix"] ?? "/services/drill/";
var refresh = TimeSpan.Parse(builder.Configuration["Consumer:RefreshInterval"] ?? "00:00:01", System.Globalization.CultureInfo.InvariantCulture);

var registryClient = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
var replicas = Array.Empty<Uri>();
var next = 0;

// When each port left the list, on the monotonic clock (Stopwatch, shared by every process on the machine): the
// drill reads the moment the consumer moved instead of polling for it, which on a busy machine lags by up to a second.
var removedAt = new System.Collections.Concurrent.ConcurrentDictionary<int, long>();

async Task RefreshAsync(CancellationToken cancellationToken)
{
    var end = Encoding.UTF8.GetBytes(prefix);
    end[^1]++;
    var body = JsonSerializer.Serialize(new Dictionary<string, string>
    {
        ["key"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(prefix)),
        ["range_end"] = Convert.ToBase64String(end),
    });
    using var content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
    using var response = await registryClient.PostAsync(new Uri(etcd, "v3/kv/range"), content, cancellationToken);
    using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
    var found = new List<Uri>();
    if (json.RootElement.TryGetProperty("kvs", out var kvs))
    {
        foreach (var kv in kvs.EnumerateArray())
        {
            using var instance = JsonDocument.Parse(Convert.FromBase64String(kv.GetProperty("value").GetString()!));
            var address = instance.RootElement.GetProperty("address").GetString();
            var port = instance.RootElement.GetProperty("port").GetInt32();
            found.Add(new Uri($"http://{address}:{port}/"));
        }
    }

    var previous = Volatile.Read(ref replicas);
    Volatile.Write(ref replicas, found.ToArray());
    var now = System.Diagnostics.Stopwatch.GetTimestamp();
    foreach (var gone in previous.Where(p => !found.Any(f => f.Port == p.Port)))
    {
        removedAt[gone.Port] = now;
    }

    foreach (var back in found)
    {
        removedAt.TryRemove(back.Port, out _);
    }
}

var app = builder.Build();
var stopping = app.Lifetime.ApplicationStopping;
_ = Task.Run(async () =>
{
    while (!stopping.IsCancellationRequested)
    {
        try
        {
            await RefreshAsync(stopping);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or SocketException or JsonException)
        {
            // Keep the last known list, as discovery clients do.
        }

        try
        {
            await Task.Delay(refresh, stopping);
        }
        catch (OperationCanceledException)
        {
            break;
        }
    }
});

app.MapGet("/replicas", () => Results.Json(Volatile.Read(ref replicas).Select(r => r.ToString())));
app.MapGet("/removed/{port:int}", (int port) => removedAt.TryGetValue(port, out var at) ? Results.Json(at) : Results.NotFound());
app.MapGet("/{**path}", async (HttpContext context, string? path) =>
{
    var current = Volatile.Read(ref replicas);
    if (current.Length == 0)
    {
        return Results.StatusCode(503);
    }

    var target = current[(int)((uint)Interlocked.Increment(ref next) % current.Length)];
    return await GracefulLifecycle.Drill.Consumer.Upstream.ForwardAsync(target, context, path);
});

app.Run();
