using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.TestSupport.Eureka;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.Eureka.Tests.Infrastructure;

/// <summary>
/// A lifecycle test host (real Kestrel, fake time) with a gated preload task and <c>AddEureka</c> pointed at a
/// fake Eureka server sharing the same fake clock. Eureka timings are small: cache refresh 1 s, consumers' fetch
/// 1 s, no load-balancer cache, margin 0.5 s (a propagation delay of 2.5 s) and a heartbeat every second.
/// </summary>
internal sealed class EurekaScenario : IAsyncDisposable
{
    public const string App = "orders";
    public static readonly TimeSpan Propagation = TimeSpan.FromMilliseconds(2500);
    public static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(1);

    private readonly HttpClient _client;
    private readonly List<FakeEurekaServer> _servers = [];

    private EurekaScenario(FakeTimeProvider time, LifecycleTestHost host, TaskCompletionSource preload, FakeEurekaServer? eureka)
    {
        Time = time;
        Host = host;
        Preload = preload;
        _client = new HttpClient { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        if (eureka is not null)
        {
            Eureka = eureka;
            _servers.Add(eureka);
        }
    }

    public FakeTimeProvider Time { get; }

    public LifecycleTestHost Host { get; }

    /// <summary>Gets the preload task's gate; completed at start unless the scenario asked to hold it.</summary>
    public TaskCompletionSource Preload { get; }

    /// <summary>Gets the fake Eureka server (the one started with the scenario, or the last one started later).</summary>
    public FakeEurekaServer Eureka { get; private set; } = null!;

    public CapturingLoggerProvider Logs => Host.Logs;

    /// <summary>Gets the instance id the adapter registers by default.</summary>
    public string InstanceId => $"{Dns.GetHostName()}:{App}:{Host.Port}";

    public static void FastEureka(EurekaOptions o)
    {
        o.AppName = App;
        o.ResponseCacheUpdateIntervalMs = 1000;
        o.RegistryFetchIntervalSeconds = 1;
        o.LoadBalancerCacheTtl = TimeSpan.Zero;
        o.PropagationMargin = TimeSpan.FromMilliseconds(500);
        o.LeaseRenewalIntervalInSeconds = 1;
        o.LeaseExpirationDurationInSeconds = 3;

        // Fake time races ahead of real I/O while tests move it; keep per-call timeouts out of the way.
        o.RequestTimeout = TimeSpan.FromSeconds(60);
    }

    /// <summary>Starts the scenario.</summary>
    /// <param name="eureka">Adjusts the Eureka options after the fast defaults.</param>
    /// <param name="lifecycle">Adjusts the lifecycle options after the scenario's.</param>
    /// <param name="settings">Configuration values.</param>
    /// <param name="holdPreload">Keeps the preload task running until <see cref="Preload"/> is completed.</param>
    /// <param name="serviceUrl">The service URL; by default a fake server started here.</param>
    public static async Task<EurekaScenario> StartAsync(
        Action<EurekaOptions>? eureka = null,
        Action<GracefulLifecycleOptions>? lifecycle = null,
        IDictionary<string, string?>? settings = null,
        bool holdPreload = false,
        string? serviceUrl = null)
    {
        var time = new FakeTimeProvider();
        var fake = serviceUrl is null ? await FakeEurekaServer.StartAsync(time, TimeSpan.FromSeconds(1)) : null;
        var preload = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!holdPreload)
        {
            preload.SetResult();
        }

        try
        {
            var host = await LifecycleTestHost.StartAsync(
                configure: b => b
                    .AddPreload("warmup", (_, ct) => preload.Task.WaitAsync(ct))
                    .AddEureka(o =>
                    {
                        o.ServiceUrl = serviceUrl ?? fake!.ServiceUrl;
                        FastEureka(o);
                        eureka?.Invoke(o);
                    }),
                options: o =>
                {
                    // Room for a generous deregistration bound: fake time moves faster than real calls.
                    o.TerminationGracePeriod = TimeSpan.FromMinutes(2);
                    o.Registration.DeregistrationTimeout = TimeSpan.FromSeconds(30);
                    lifecycle?.Invoke(o);
                },
                settings: settings,
                time: time);
            return new EurekaScenario(time, host, preload, fake);
        }
        catch
        {
            if (fake is not null)
            {
                await fake.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>Starts a fake Eureka server on the scenario's clock, on a given port (one the host already points at).</summary>
    public async Task<FakeEurekaServer> StartEurekaAsync(int port)
    {
        var server = await FakeEurekaServer.StartAsync(Time, TimeSpan.FromSeconds(1), port);
        _servers.Add(server);
        Eureka = server;
        return server;
    }

    public async Task<int> ReadinessAsync()
    {
        using var response = await _client.GetAsync(new Uri("/ifready", UriKind.Relative));
        return (int)response.StatusCode;
    }

    /// <summary>Waits, without moving fake time, for a call matching <paramref name="match"/> to arrive.</summary>
    public async Task<EurekaCall> CallAsync(Func<EurekaCall, bool> match, string what)
    {
        EurekaCall? found = null;
        await Eventually.TrueAsync(() => (found = Eureka.Calls.FirstOrDefault(match)) is not null, what);
        return found!;
    }

    /// <summary>Waits until every call received so far has been answered.</summary>
    public Task SettledAsync() => Eventually.TrueAsync(() => Eureka.Calls.All(c => c.IsAnswered), "every Eureka call answered");

    /// <summary>Moves fake time in <paramref name="step"/>s until <paramref name="condition"/> holds.</summary>
    public async Task AdvanceUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? step = null)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            if (deadline.Elapsed > Eventually.DefaultTimeout)
            {
                throw new TimeoutException($"Timed out moving fake time until: {what}");
            }

            Time.Advance(step ?? TimeSpan.FromMilliseconds(100));
            await Task.Delay(2);
        }
    }

    public Task AdvanceUntilAsync(Func<bool> condition, string what, TimeSpan? step = null) =>
        AdvanceUntilAsync(() => Task.FromResult(condition()), what, step);

    /// <summary>Waits for the registration, then moves fake time until readiness answers 200.</summary>
    public async Task<EurekaCall> ReadyAsync()
    {
        var post = await CallAsync(c => c.Method == "POST", "the registration");
        await AdvanceUntilAsync(async () => await ReadinessAsync() == 200, "ready");
        return post;
    }

    /// <summary>
    /// Moves fake time until <paramref name="count"/> more heartbeats have arrived, then waits until every call is
    /// answered. Time stops moving as soon as the last one arrives, and the next heartbeat needs a whole renewal
    /// interval more, so afterwards nothing is in flight and nothing is sent until the test moves time again.
    /// </summary>
    public async Task HeartbeatsAsync(int count)
    {
        var target = Eureka.CallsTo("PUT").Count + count;
        await AdvanceUntilAsync(() => Eureka.CallsTo("PUT").Count >= target, $"{count} more heartbeats");
        await SettledAsync();
    }

    public static JsonObject Instance(EurekaCall post) => (JsonObject)JsonNode.Parse(post.Body)!["instance"]!;

    public async ValueTask DisposeAsync()
    {
        await Eventually.DoneAsync(Host.DisposeAsync().AsTask(), "the host stops", TimeSpan.FromSeconds(30));
        _client.Dispose();
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }
    }
}
