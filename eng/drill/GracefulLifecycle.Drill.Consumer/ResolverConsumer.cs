using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.ServiceDiscovery;

namespace GracefulLifecycle.Drill.Consumer;

/// <summary>
/// A .NET consumer as Aspire service discovery builds it (<c>Consumer:Registry=resolver</c>): an <c>HttpClient</c>
/// with <c>.AddServiceDiscovery()</c> calls <c>Consumer:Service</c> (<c>http://drill</c>), which
/// Microsoft.Extensions.ServiceDiscovery resolves through the endpoint provider of the registry whose section is
/// configured (<c>GracefulLifecycle:Etcd</c> or <c>GracefulLifecycle:Consul</c>, as the replicas' own) and picks
/// round-robin, its default. Each incoming request is one call, never retried: a failed call is answered 502.
/// </summary>
/// <remarks>
/// When a port left the list is read from a <see cref="ServiceEndpointResolver"/> of the same process (its own watcher
/// over the same provider, woken by the same registry event), followed through its change token: the resolved
/// <c>HttpClient</c> keeps its watcher to itself.
/// </remarks>
internal static class ResolverConsumer
{
    private const string ClientName = "upstream";

    public static void Run(WebApplicationBuilder builder)
    {
        var service = builder.Configuration["Consumer:Service"] ?? "http://drill";
        builder.Services.AddServiceDiscoveryCore();
        ConsumerRegistries.AddEndpointProvider(builder.Services, builder.Configuration);
        builder.Services.AddHttpClient(ClientName, client =>
            {
                client.BaseAddress = new Uri(service);
                client.Timeout = TimeSpan.FromSeconds(10);
            })
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5), MaxConnectionsPerServer = 64 })
            .AddServiceDiscovery();

        var app = builder.Build();
        var removedAt = new ConcurrentDictionary<int, long>();
        var resolver = app.Services.GetRequiredService<ServiceEndpointResolver>();
        _ = Task.Run(() => FollowAsync(resolver, service, removedAt, app.Lifetime.ApplicationStopping));

        var factory = app.Services.GetRequiredService<IHttpClientFactory>();
        app.MapGet("/removed/{port:int}", (int port) => removedAt.TryGetValue(port, out var at) ? Results.Json(at) : Results.NotFound());
        app.MapGet("/{**path}", (HttpContext context, string? path) => Upstream.ForwardAsync(factory.CreateClient(ClientName), new Uri(service), context, path));
        app.Run();
    }

    /// <summary>
    /// Records when each port leaves the resolved list: the list is read again as soon as its change token fires, and
    /// at least every second (which also keeps the resolver from retiring the watcher of a name it was not asked for).
    /// </summary>
    private static async Task FollowAsync(ServiceEndpointResolver resolver, string service, ConcurrentDictionary<int, long> removedAt, CancellationToken stopping)
    {
        var known = new HashSet<int>();
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                var source = await resolver.GetEndpointsAsync(service, stopping);
                var now = Stopwatch.GetTimestamp();
                var ports = source.Endpoints.Select(e => e.EndPoint switch
                {
                    System.Net.IPEndPoint ip => ip.Port,
                    System.Net.DnsEndPoint dns => dns.Port,
                    _ => new Uri(e.EndPoint.ToString()!).Port,
                }).ToHashSet();
                foreach (var gone in known.Where(p => !ports.Contains(p)))
                {
                    removedAt[gone] = now;
                }

                foreach (var port in ports)
                {
                    removedAt.TryRemove(port, out _);
                }

                known = ports;
                var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                using var registration = source.ChangeToken.RegisterChangeCallback(static s => ((TaskCompletionSource)s!).TrySetResult(), changed);
                await Task.WhenAny(changed.Task, Task.Delay(TimeSpan.FromSeconds(1), stopping));
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (InvalidOperationException)
            {
                // No list yet: asked again below.
                await Task.Delay(TimeSpan.FromMilliseconds(100), stopping).ContinueWith(static _ => { }, TaskScheduler.Default);
            }
        }
    }
}
