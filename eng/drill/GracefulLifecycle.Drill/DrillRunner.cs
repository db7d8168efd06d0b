using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Threading.Channels;
using GracefulLifecycle.TestSupport;

namespace GracefulLifecycle.Drill;

/// <summary>
/// A Kubernetes-like rolling update on one machine: maxSurge 1, maxUnavailable 0. For each old replica a new one is
/// started and waited for (readiness 200), then the old one is terminated like the kubelet does (optional preStop,
/// SIGTERM, SIGKILL after the grace period) while a load keeps the service busy through the whole rollout: wrk for
/// short HTTP requests, or WebSocket or SignalR clients for long-lived connections.
/// </summary>
internal static class DrillRunner
{
    /// <summary>Runs the drill with the settings' load and prints its result line.</summary>
    /// <returns>A <see cref="DrillResult"/>, <see cref="WebSocketDrillResult"/> or <see cref="SignalRDrillResult"/>.</returns>
    public static async Task<object> RunAnyAsync(DrillSettings settings, TextWriter log) => settings.Load switch
    {
        DrillLoad.WebSocket => await RunWebSocketAsync(settings, log),
        DrillLoad.SignalR => await RunSignalRAsync(settings, log),
        _ => await RunAsync(settings, log),
    };

    /// <summary>Rolls the service under wrk load: every non-2xx answer and every socket error is a failure.</summary>
    public static async Task<DrillResult> RunAsync(DrillSettings settings, TextWriter log)
    {
        var load = new HttpLoad(settings);
        var rollout = await RollOutAsync(settings, load, log);
        var counts = load.Counts;
        var result = new DrillResult(
            settings, counts.Requests, counts.Non2xx, counts.Connect, counts.Read, counts.Write, counts.Timeout, rollout.Duration, counts.Timeline)
        {
            Killed = rollout.Killed,
            Terminations = rollout.Terminations,
        };
        log.WriteLine(result.ToString());
        if (settings.Timeline)
        {
            foreach (var line in result.Timeline)
            {
                log.WriteLine($"    {line}");
            }
        }

        return result;
    }

    /// <summary>Rolls the service while WebSocket echo clients keep sending numbered messages through it.</summary>
    public static async Task<WebSocketDrillResult> RunWebSocketAsync(DrillSettings settings, TextWriter log)
    {
        var load = new WebSocketLoad(settings.Clients);
        var rollout = await RollOutAsync(settings, load, log);
        var result = new WebSocketDrillResult(settings, load.Counts(), rollout);
        log.WriteLine(result.ToString());
        return result;
    }

    /// <summary>Rolls the service while SignalR clients with automatic reconnect keep invoking its hub.</summary>
    public static async Task<SignalRDrillResult> RunSignalRAsync(DrillSettings settings, TextWriter log)
    {
        var load = new SignalRLoad(settings.Clients);
        var rollout = await RollOutAsync(settings, load, log);
        var result = new SignalRDrillResult(settings, load.Counts(), rollout);
        log.WriteLine(result.ToString());
        foreach (var line in load.Details())
        {
            log.WriteLine($"    {line}");
        }

        return result;
    }

    /// <summary>
    /// Starts the replicas and the balancer, waits for a steady service, starts the load, rolls every replica
    /// <see cref="DrillSettings.Rollouts"/> times, waits for the old ones to leave, keeps the load on a steady service
    /// a little longer, then stops it.
    /// </summary>
    private static async Task<Rollout> RollOutAsync(DrillSettings settings, IDrillLoad load, TextWriter log)
    {
        var directory = AppContext.BaseDirectory;
        var app = Path.Combine(directory, settings.Scenario == DrillScenario.Baseline ? "GracefulLifecycle.Drill.Baseline.dll" : "GracefulLifecycle.Sample.dll");
        var slots = Enumerable.Range(0, settings.Replicas * 2).Select(_ => LoopbackPorts.Next()).ToArray();
        var freePorts = Channel.CreateUnbounded<int>();
        foreach (var slot in slots)
        {
            freePorts.Writer.TryWrite(slot);
        }

        EtcdServer? etcd = null;
        ChildProcess? consumer = null;
        Haproxy? haproxy = null;
        var replicas = new List<Replica>();
        var everyReplica = new List<Replica>();
        try
        {
            if (settings.Scenario == DrillScenario.Etcd)
            {
                etcd = await EtcdServer.StartAsync();
            }
            else if (settings.Scenario is DrillScenario.Eureka or DrillScenario.Consul && settings.Chain is null)
            {
                throw new InvalidOperationException($"The {settings.Scenario} scenario needs a registry: set DrillSettings.Chain (--registry-url).");
            }

            var appSettings = AppSettings(settings, etcd);
            async Task<Replica> StartReplicaAsync()
            {
                var replica = Replica.Start(app, await freePorts.Reader.ReadAsync(), appSettings);
                everyReplica.Add(replica);
                await replica.WaitReadyAsync(TimeSpan.FromSeconds(60));
                return replica;
            }

            for (var i = 0; i < settings.Replicas; i++)
            {
                replicas.Add(await StartReplicaAsync());
            }

            Uri target;
            if (settings.Mode == BalancerMode.None)
            {
                var port = LoopbackPorts.Next();
                var consumerSettings = settings.Discovery is { } discovery
                    ? discovery.ProcessSettings(etcd?.ClientUrl ?? settings.Chain!.RegistryUrl)
                    : settings.Chain is { } chain
                    ? chain.ConsumerSettings(settings.Scenario)
                    : new Dictionary<string, string>
                    {
                        ["Consumer__Etcd"] = etcd!.ClientUrl.ToString(),
                        ["Consumer__Prefix"] = "/services/drill/",
                        ["Consumer__RefreshInterval"] = settings.ConsumerRefresh.ToString("c", CultureInfo.InvariantCulture),
                    };
                consumerSettings["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
                consumer = new ChildProcess("dotnet", [settings.Discovery?.App(directory) ?? Path.Combine(directory, "GracefulLifecycle.Drill.Consumer.dll")], consumerSettings);
                target = new Uri($"http://127.0.0.1:{port}/");
            }
            else
            {
                var port = LoopbackPorts.Next();
                haproxy = await Haproxy.StartAsync(settings.Mode, port, slots, settings.CheckInterval, settings.CheckFall, settings.CheckUserAgent);
                target = new Uri($"http://127.0.0.1:{port}/");

                // Like endpoints in steady state: exactly the running replicas are in rotation.
                var expected = replicas.Select(r => r.Port).Order().ToArray();
                var deadline = Stopwatch.StartNew();
                IReadOnlyList<HaproxyServer> servers;
                while (!(servers = await haproxy.ServersAsync(slots)).Where(s => s.IsUp).Select(s => s.Port).Order().SequenceEqual(expected))
                {
                    if (deadline.Elapsed > TimeSpan.FromSeconds(30))
                    {
                        throw new InvalidOperationException(
                            $"HAProxy never had exactly the running replicas up. Running: {string.Join(", ", expected)}; HAProxy's servers: "
                            + string.Join("; ", servers) + Environment.NewLine + "HAProxy's output:" + Environment.NewLine + haproxy.Output);
                    }

                    await Task.Delay(100);
                }
            }

            // When a replica was taken out of rotation (null while it is still routed to): HAProxy's view of its slot,
            // seen when polled, or the consumer's own record of the refresh that dropped it (with several consumers,
            // of the last one to drop it).
            var routed = haproxy is not null
                ? (Func<int, Task<long?>>)(async p => (await haproxy.ServersAsync(slots)).Any(s => s.Port == p && s.IsUp) ? null : Stopwatch.GetTimestamp())
                : settings.Discovery?.Removals(target) ?? ConsumerRemovals(target);

            // Start the load only once every path to a replica answers, as a Service in steady state does.
            await WaitForSteadyStateAsync(target);
            await load.StartAsync(target);
            log.WriteLine($"[{settings.Name}] load running against {target}");
            await Task.Delay(settings.LoadBeforeRollout ?? settings.SteadyLoad);

            var rollout = Stopwatch.StartNew();
            var terminations = new List<Task<Termination>>();
            for (var round = 1; round <= settings.Rollouts; round++)
            {
                foreach (var old in replicas.ToList())
                {
                    // Each replica's footprint at the end of its life, under load: the soak figures (RSS, handles).
                    var (rss, handles) = old.Resources();
                    log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{settings.Name}] round {round} replica :{old.Port} before termination: RSS {rss / 1024.0:F1} MiB, handles {handles}"));
                    var fresh = await StartReplicaAsync();
                    replicas.Add(fresh);
                    replicas.Remove(old);
                    terminations.Add(TerminateAsync(old, settings, freePorts.Writer, routed));
                }

                log.WriteLine($"[{settings.Name}] rollout {round} of {settings.Rollouts} placed after {rollout.Elapsed.TotalSeconds:F1} s");
            }

            var left = await Task.WhenAll(terminations);
            var duration = rollout.Elapsed;
            foreach (var termination in left)
            {
                log.WriteLine($"[{settings.Name}] {termination}");
                if (termination.ShutdownTimeline is { } timeline)
                {
                    log.WriteLine($"    {timeline}");
                }
                if (termination.OutputTail is { Length: > 0 } tail && (termination.ExitedByItself || Debugging))
                {
                    // A replica that left by itself but not with 0 failed on its way out: say why.
                    log.WriteLine($"    its output ends with:{Environment.NewLine}{tail}");
                }
            }

            await Task.Delay(settings.SteadyLoad);
            await load.StopAsync();
            return new Rollout(duration, left);
        }
        finally
        {
            // The load goes first: its clients must not see the service torn down as part of the rollout.
            await load.DisposeAsync();
            if (haproxy is not null)
            {
                await haproxy.DisposeAsync();
            }

            if (consumer is not null)
            {
                await consumer.DisposeAsync();
            }

            foreach (var replica in everyReplica)
            {
                await replica.DisposeAsync();
            }

            if (etcd is not null)
            {
                await etcd.DisposeAsync();
            }
        }
    }

    /// <summary>Gets whether <c>DRILL_DEBUG</c> is set: HAProxy, wrk and the old replicas then print what they logged.</summary>
    private static bool Debugging => Environment.GetEnvironmentVariable("DRILL_DEBUG") is { Length: > 0 };

    private static async Task<Termination> TerminateAsync(Replica replica, DrillSettings settings, ChannelWriter<int> freePorts, Func<int, Task<long?>> removedFromRotation)
    {
        // Watched from before the signal: when the balancer (or the consumer) stops routing to the replica.
        using var stopWatching = new CancellationTokenSource(settings.GracePeriod + TimeSpan.FromSeconds(15));
        var removal = WatchRemovalAsync(removedFromRotation, replica.Port, stopWatching.Token);
        var exited = await replica.TerminateAsync(settings.Scenario == DrillScenario.PreStop, settings.GracePeriod);

        // The slot is freed only once the balancer has taken it out, which may be after the exit: a new replica on it
        // must not be mistaken for the old one still routed.
        var removedAt = await removal;
        freePorts.TryWrite(replica.Port);
        var exitCode = replica.HasExited ? replica.ExitCode : (int?)null;
        var output = replica.Output;
        return new Termination(replica.Port, exited, replica.SigTermToExit, exitCode)
        {
            SignalledAt = replica.SignalledAt,
            RemovedAfter = removedAt is { } at && replica.SignalledAt != 0 ? Stopwatch.GetElapsedTime(replica.SignalledAt, at) : null,
            ShutdownTimeline = string.Join(
                Environment.NewLine + "    ",
                output.Split(Environment.NewLine).Where(l => l.Contains("GracefulLifecycle.Adaptive.", StringComparison.Ordinal)).Select(l => l.Trim())),
            OutputTail = exited && exitCode == 0 && !Debugging ? null : string.Join(Environment.NewLine, output.Split(Environment.NewLine).TakeLast(40)),
        };
    }

    /// <summary>Polls every 50 ms until <paramref name="removedAt"/> says the port is out; the time it was, or null.</summary>
    private static async Task<long?> WatchRemovalAsync(Func<int, Task<long?>> removedAt, int port, CancellationToken cancellationToken)
    {
        // A record older than the watch is of an earlier replica on the same port.
        var since = Stopwatch.GetTimestamp();
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (await removedAt(port) is { } at && at >= since)
                {
                    return at;
                }

                await Task.Delay(50, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (Exception ex) when (ex is HttpRequestException or SocketException or IOException or System.Text.Json.JsonException)
            {
                // Asked again at the next turn.
            }
        }

        return null;
    }

    /// <summary>When the etcd consumer dropped a port from its list (<c>GET /removed/{port}</c>, a monotonic timestamp), or null.</summary>
    private static Func<int, Task<long?>> ConsumerRemovals(Uri consumer)
    {
        var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        return async port =>
        {
            using var response = await client.GetAsync(new Uri(consumer, $"removed/{port}"));
            return response.StatusCode == System.Net.HttpStatusCode.NotFound
                ? null
                : await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<long>(response.EnsureSuccessStatusCode().Content);
        };
    }
    private static Dictionary<string, string> AppSettings(DrillSettings settings, EtcdServer? etcd)
    {
        var values = new Dictionary<string, string>
        {
            ["Sample__PreloadDuration"] = "00:00:00.500",
            ["GracefulLifecycle__ShutdownDelay"] = settings.ShutdownDelay.ToString("c", CultureInfo.InvariantCulture),
            ["GracefulLifecycle__DrainTimeout"] = settings.DrainTimeout.ToString("c", CultureInfo.InvariantCulture),
            ["GracefulLifecycle__TerminationGracePeriod"] = settings.GracePeriod.ToString("c", CultureInfo.InvariantCulture),
        };
        if (settings.AdaptiveDelay)
        {
            values["GracefulLifecycle__AdaptiveDelay__Enabled"] = "true";
            if (settings.ReadinessCheck is { } rule)
            {
                values["GracefulLifecycle__AdaptiveDelay__ReadinessCheck"] = rule;
            }
        }

        // The shutdown timeline of every old replica, read from its output into the drill's report.
        values["Logging__LogLevel__GracefulLifecycle.Adaptive"] = "Information";
        values["Logging__Console__FormatterName"] = "simple";
        values["Logging__Console__FormatterOptions__SingleLine"] = "true";
        if (Debugging)
        {
            // The lifecycle's own account of each shutdown (phases, drain, WebSockets closed), with times to set
            // against the clients' counts; printed for every old replica.
            values["Logging__LogLevel__GracefulLifecycle"] = "Information";
            values["Logging__Console__TimestampFormat"] = "HH:mm:ss.fff ";
        }

        if (etcd is not null)
        {
            values["GracefulLifecycle__Etcd__Endpoints"] = etcd.ClientUrl.ToString();
            values["GracefulLifecycle__Etcd__ServiceName"] = "drill";
            values["GracefulLifecycle__Etcd__ServiceAddress"] = "127.0.0.1";
            values["GracefulLifecycle__Etcd__LeaseTtl"] = "00:00:05";
            values["GracefulLifecycle__Etcd__ConsumerRefreshInterval"] = (settings.DeclaredConsumerRefresh ?? settings.ConsumerRefresh).ToString("c", CultureInfo.InvariantCulture);

            // The drill's consumer picks from what it last read, with no load-balancer cache over it.
            values["GracefulLifecycle__Etcd__LoadBalancerCacheTtl"] = "00:00:00";
        }

        if (settings.Chain is { } chain)
        {
            chain.AddReplicaSettings(settings.Scenario, values);
        }

        foreach (var (key, value) in settings.ReplicaSettings)
        {
            values[key] = value;
        }

        return values;
    }

    /// <summary>Waits until 50 new connections in a row are answered: every slot without a replica is marked down.</summary>
    private static async Task WaitForSteadyStateAsync(Uri target)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        var successes = 0;
        while (successes < 50)
        {
            try
            {
                // A new connection each time: in tcp mode a kept-alive one would stay on a single replica.
                using var request = new HttpRequestMessage(HttpMethod.Get, target) { Headers = { ConnectionClose = true } };
                using var response = await client.SendAsync(request);
                successes = response.IsSuccessStatusCode ? successes + 1 : 0;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or SocketException)
            {
                successes = 0;
            }

            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new InvalidOperationException($"{target} never answered 50 requests in a row.");
            }

            if (successes == 0)
            {
                await Task.Delay(100);
            }
        }
    }
}
