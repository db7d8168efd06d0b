using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace GracefulLifecycle.Drill.Consumer;

/// <summary>
/// Consumers modelled on Spring Cloud's (Eureka or Consul discovery under Spring Cloud LoadBalancer), for the
/// consumer-chain drill: <c>Consumer:Clients</c> independent consumers (as many services calling this one), each with
/// its own discovery client and its own cached load balancer, started at different moments. Each incoming request is handed to the next consumer in turn, which
/// picks an instance from its cached list (half of them round-robin, half at random) and calls it once: no retry,
/// so a call to an instance that has stopped is answered 502 and counted by the load generator.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>Consumer:Registry=eureka</c>: a Eureka client that fetches <c>Consumer:RegistryUrl</c> (the server's
/// <c>…/eureka/</c> base URL) every <c>Consumer:FetchInterval</c>, under a load-balancer cache of
/// <c>Consumer:LoadBalancerCacheTtl</c>.</item>
/// <item><c>Consumer:Registry=consul</c>: Spring Cloud Consul, which asks the agent at <c>Consumer:RegistryUrl</c>
/// for the health of the service (critical instances included) whenever the load-balancer cache of
/// <c>Consumer:LoadBalancerCacheTtl</c> has expired.</item>
/// </list>
/// </remarks>
internal static class ChainConsumer
{
    public static void Run(WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var registry = configuration["Consumer:Registry"]!;
        var registryUrl = new Uri(configuration["Consumer:RegistryUrl"] ?? throw new InvalidOperationException("Consumer:RegistryUrl is required."));
        var service = configuration["Consumer:Service"] ?? "drill";
        var fetch = Duration(configuration, "Consumer:FetchInterval", "00:00:30");
        var ttl = Duration(configuration, "Consumer:LoadBalancerCacheTtl", "00:00:35");
        var clients = int.Parse(configuration["Consumer:Clients"] ?? "16", CultureInfo.InvariantCulture);

        var registryClient = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };

        // When each port left the lists of every consumer, on the monotonic clock (Stopwatch, shared by every process
        // on the machine): the drill frees a replica's port only then, and reports SIGTERM to that moment.
        var removedAt = new ConcurrentDictionary<int, long>();
        var balancers = new List<CachedLoadBalancer>();
        var callable = new HashSet<int>();
        var gate = new Lock();
        void ListChanged()
        {
            lock (gate)
            {
                var now = Stopwatch.GetTimestamp();
                var current = balancers.SelectMany(b => b.Cached).Select(u => u.Port).ToHashSet();
                foreach (var gone in callable.Where(p => !current.Contains(p)))
                {
                    removedAt[gone] = now;
                }

                foreach (var port in current)
                {
                    removedAt.TryRemove(port, out _);
                }

                callable = current;
            }
        }

        var fetchers = new List<(EurekaDiscoveryClient Client, TimeSpan Phase)>();
        for (var i = 0; i < clients; i++)
        {
            IDiscoveryClient discovery;
            if (registry == "eureka")
            {
                var eureka = new EurekaDiscoveryClient(registryClient, registryUrl, service, fetch);
                fetchers.Add((eureka, fetch * Random.Shared.NextDouble()));
                discovery = eureka;
            }
            else
            {
                discovery = new ConsulDiscoveryClient(registryClient, registryUrl, service);
            }

            lock (gate)
            {
                balancers.Add(new CachedLoadBalancer(discovery, ttl, random: i % 2 == 1, age: ttl * Random.Shared.NextDouble(), ListChanged));
            }
        }

        var app = builder.Build();
        var stopping = app.Lifetime.ApplicationStopping;
        foreach (var (client, phase) in fetchers)
        {
            _ = Task.Run(() => client.RunAsync(phase, stopping));
        }

        var next = 0;
        app.MapGet("/replicas", () => Results.Json(balancers.Select(b => new { b.Picker, Cached = b.Cached.Select(u => u.ToString()) })));
        app.MapGet("/removed/{port:int}", (int port) => removedAt.TryGetValue(port, out var at) ? Results.Json(at) : Results.NotFound());
        app.MapGet("/{**path}", async (HttpContext context, string? path) =>
        {
            var balancer = balancers[(int)((uint)Interlocked.Increment(ref next) % (uint)balancers.Count)];
            if (await balancer.ChooseAsync(context.RequestAborted) is not { } target)
            {
                return Results.StatusCode(503);
            }

            return await Upstream.ForwardAsync(target, context, path);
        });

        app.Run();
    }

    private static TimeSpan Duration(ConfigurationManager configuration, string key, string fallback) =>
        TimeSpan.Parse(configuration[key] ?? fallback, CultureInfo.InvariantCulture);
}
