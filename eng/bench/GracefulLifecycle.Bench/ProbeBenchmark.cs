using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using GracefulLifecycle.Drill;
using static System.FormattableString;

namespace GracefulLifecycle.Bench;

/// <summary>
/// Readiness probe latency while wrk saturates the app, probed as the kubelet probes: a new connection per probe
/// (<c>Connection: close</c>), one probe per period, each timed from connect to the server closing the connection.
/// </summary>
internal static class ProbeBenchmark
{
    private const int LoadThreads = 1;
    private const int LoadConnections = 64;

    /// <summary>The Kubernetes default <c>timeoutSeconds</c> of a probe.</summary>
    private static readonly TimeSpan KubernetesTimeout = TimeSpan.FromSeconds(1);

    /// <summary>How long the bench waits for one probe before counting it as timed out.</summary>
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    public static async Task RunAsync(BenchOptions options, CpuMonitor cpu, TextWriter results, TextWriter progress)
    {
        var settings = Apps.Settings(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15));
        var rows = new List<ProbeRow>();

        await using (var sample = await Apps.StartReadyAsync(Apps.Sample, settings, options.ServerCpu))
        {
            rows.Add(await ScenarioAsync("Sample, idle", sample, loadPath: null, options, cpu, progress));
            rows.Add(await ScenarioAsync("Sample, wrk on /", sample, "/", options, cpu, progress));
            rows.Add(await ScenarioAsync("Sample, wrk on /slow?ms=5", sample, "/slow?ms=5", options, cpu, progress));
        }

        await using (var baseline = await Apps.StartReadyAsync(Apps.Baseline, settings, options.ServerCpu))
        {
            rows.Add(await ScenarioAsync("Baseline app (no library), wrk on /", baseline, "/", options, cpu, progress));
        }

        results.WriteLine(Invariant(
            $"### c. Readiness probe latency (GET /ifready, new connection per probe, every {options.ProbePeriod.TotalMilliseconds:F0} ms for {options.ProbeDuration.TotalSeconds:F0} s; load wrk -t{LoadThreads} -c{LoadConnections}, server on CPU {options.ServerCpu}, wrk on CPU {options.LoadCpu})"));
        results.WriteLine();
        results.WriteLine("| Scenario | Probes | p50 (ms) | p90 (ms) | p99 (ms) | Max (ms) | Over 1 s | Not 200 | Load req/s | Other CPU % | Steal % |");
        results.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (name, probes, load, usage) in rows)
        {
            var ms = probes.Latencies.Select(l => l.TotalMilliseconds).ToList();
            results.WriteLine(Invariant(
                $"| {name} | {ms.Count} | {Stats.Percentile(ms, 50):F2} | {Stats.Percentile(ms, 90):F2} | {Stats.Percentile(ms, 99):F2} | {ms.Max():F2} | {probes.Latencies.Count(l => l > KubernetesTimeout)} | {probes.NotOk} | {(load is null ? "-" : load.RequestsPerSecond.ToString("F0", System.Globalization.CultureInfo.InvariantCulture))} | {usage.OtherPercent:F1} | {usage.StealPercent:F1} |"));
        }

        results.WriteLine();
    }

    /// <summary>Runs a scenario again, at most twice more, when other work took a share of the machine meanwhile.</summary>
    private static async Task<ProbeRow> ScenarioAsync(
        string name, Replica app, string? loadPath, BenchOptions options, CpuMonitor cpu, TextWriter progress)
    {
        for (var attempt = 1; ; attempt++)
        {
            var outcome = await ScenarioOnceAsync(name, app, loadPath, options, cpu, progress);
            if (outcome.Cpu.OtherPercent < cpu.QuietBelowPercent || attempt == 3)
            {
                return outcome;
            }

            progress.WriteLine(Invariant($"[probes] {name}: others took {outcome.Cpu.OtherPercent:F0}% of the machine; measuring again"));
        }
    }

    private static async Task<ProbeRow> ScenarioOnceAsync(
        string name, Replica app, string? loadPath, BenchOptions options, CpuMonitor cpu, TextWriter progress)
    {
        progress.WriteLine(Invariant($"[probes] {name}"));
        await cpu.WaitQuietAsync(progress);
        var before = CpuMonitor.Take();
        if (loadPath is null)
        {
            var idle = await ProbeAsync(app.Port, options);
            return new ProbeRow(name, idle, null, CpuMonitor.Usage.Between(before, CpuMonitor.Take()));
        }

        // The load outlasts the probing on both sides: a second to ramp up before, a second after.
        var loadDuration = options.ProbeDuration + TimeSpan.FromSeconds(2);
        await using var wrk = WrkLoad.Start(new Uri(app.Address, loadPath), LoadThreads, LoadConnections, loadDuration, options.LoadCpu);
        await Task.Delay(TimeSpan.FromSeconds(1));
        var probes = await ProbeAsync(app.Port, options);
        var load = await WrkLoad.ResultAsync(wrk, loadDuration);
        return new ProbeRow(name, probes, load, CpuMonitor.Usage.Between(before, CpuMonitor.Take()));
    }

    private static async Task<ProbeSample> ProbeAsync(int port, BenchOptions options)
    {
        var count = (int)(options.ProbeDuration / options.ProbePeriod);
        var latencies = new List<TimeSpan>(count);
        var notOk = 0;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            // Fixed rate, like the kubelet's period: a slow probe does not push the next ones back.
            var wait = (options.ProbePeriod * i) - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }

            var (latency, status) = await ProbeOnceAsync(port);
            latencies.Add(latency);
            if (status != 200)
            {
                notOk++;
            }
        }

        return new ProbeSample(latencies, notOk);
    }

    /// <summary>One probe: connect, send the request, read until the server closes; 0 as the status if it failed.</summary>
    private static async Task<(TimeSpan Latency, int Status)> ProbeOnceAsync(int port)
    {
        var request = Encoding.ASCII.GetBytes(Invariant(
            $"GET /ifready HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: kube-probe/bench\r\nAccept: */*\r\nConnection: close\r\n\r\n"));
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(ProbeTimeout);
        var clock = Stopwatch.StartNew();
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
            await socket.SendAsync(request, SocketFlags.None, timeout.Token);
            var received = 0;
            int read;
            while ((read = await socket.ReceiveAsync(buffer.AsMemory(received), SocketFlags.None, timeout.Token)) > 0)
            {
                received = Math.Min(received + read, buffer.Length - 1);
            }

            var latency = clock.Elapsed;
            var statusLine = Encoding.ASCII.GetString(buffer, 0, Math.Min(received, 12));
            return (latency, statusLine.StartsWith("HTTP/1.1 200", StringComparison.Ordinal) ? 200 : -1);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return (clock.Elapsed, 0);
        }
    }

    private sealed record ProbeSample(List<TimeSpan> Latencies, int NotOk);

    private sealed record ProbeRow(string Name, ProbeSample Probes, WrkResult? Load, CpuMonitor.Usage Cpu);
}
