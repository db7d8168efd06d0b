using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace GracefulLifecycle.Drill;

/// <summary>
/// HAProxy as the Kubernetes Service: one server slot per possible replica port, each health-checked on the
/// readiness endpoint every second (the endpoints controller), no retries and no redispatch (a Service does not
/// retry). Replicas are never removed by hand: only a failing check takes one out, as endpoint removal does.
/// </summary>
internal sealed class Haproxy : IAsyncDisposable
{
    private readonly ChildProcess _process;
    private readonly string _directory;
    private readonly string _socket;

    private Haproxy(ChildProcess process, string directory, string socket, int port)
    {
        _process = process;
        _directory = directory;
        _socket = socket;
        Port = port;
    }

    public int Port { get; }

    /// <summary>Gets what HAProxy printed so far.</summary>
    public string Output => _process.Output;

    /// <summary>Reads HAProxy's view of every server slot through its runtime API (<c>show stat</c>).</summary>
    public async Task<IReadOnlyList<HaproxyServer>> ServersAsync(IReadOnlyList<int> slots)
    {
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await client.ConnectAsync(new UnixDomainSocketEndPoint(_socket));
        await client.SendAsync(Encoding.ASCII.GetBytes("show stat\n"));
        var answer = new StringBuilder();
        var buffer = new byte[8192];
        int read;
        while ((read = await client.ReceiveAsync(buffer)) > 0)
        {
            answer.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        var lines = answer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = lines[0].TrimStart('#', ' ').Split(',');
        var name = Array.IndexOf(header, "svname");
        var status = Array.IndexOf(header, "status");
        var check = Array.IndexOf(header, "check_status");
        var duration = Array.IndexOf(header, "check_duration");
        var servers = new List<HaproxyServer>();
        foreach (var line in lines.Skip(1))
        {
            var fields = line.Split(',');
            if (fields.Length > Math.Max(status, Math.Max(check, duration)) && fields[name].StartsWith("pod", StringComparison.Ordinal))
            {
                var slot = slots[int.Parse(fields[name].AsSpan(3), CultureInfo.InvariantCulture)];
                servers.Add(new HaproxyServer(slot, fields[status], $"{fields[check]} {fields[duration]}ms"));
            }
        }

        return servers;
    }

    /// <param name="checkUserAgent">The User-Agent of the health checks, if not HAProxy's: <c>kube-probe/1.31</c> to stand for the kubelet.</param>
    public static async Task<Haproxy> StartAsync(BalancerMode mode, int port, IReadOnlyList<int> slots, TimeSpan? checkInterval = null, int checkFall = 1, string? checkUserAgent = null)
    {
        var directory = Directory.CreateTempSubdirectory("drill-haproxy-").FullName;
        var config = Path.Combine(directory, "haproxy.cfg");
        var socket = Path.Combine(directory, "admin.sock");
        await File.WriteAllTextAsync(config, Config(mode, port, slots, socket, checkInterval ?? TimeSpan.FromSeconds(1), checkFall, checkUserAgent));
        var process = new ChildProcess(FindBinary(), ["-db", "-f", config]);
        var haproxy = new Haproxy(process, directory, socket, port);

        var deadline = Stopwatch.StartNew();
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        while (true)
        {
            try
            {
                using var response = await client.GetAsync(new Uri($"http://127.0.0.1:{port}/"));
                if (response.IsSuccessStatusCode)
                {
                    return haproxy;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or SocketException)
            {
                // Starting, or no replica marked up yet.
            }

            if (process.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new InvalidOperationException($"HAProxy did not start routing. Output:{Environment.NewLine}{process.Output}");
            }

            await Task.Delay(100);
        }
    }

    public static string Config(BalancerMode mode, int port, IReadOnlyList<int> slots, string statsSocket, TimeSpan checkInterval, int checkFall, string? checkUserAgent = null)
    {
        var config = new StringBuilder();
        config.AppendLine("global");
        config.AppendLine("    maxconn 4096");
        config.AppendLine(CultureInfo.InvariantCulture, $"    stats socket {statsSocket} mode 600 level admin");
        config.AppendLine("defaults");
        config.AppendLine(mode == BalancerMode.Tcp ? "    mode tcp" : "    mode http");
        config.AppendLine("    timeout connect 1s");
        config.AppendLine("    timeout client 30s");
        config.AppendLine("    timeout server 30s");

        // A WebSocket or SignalR connection is a tunnel once established (in tcp mode, from the start): it must stay
        // up however long it idles, as it does through kube-proxy, and end only when a replica or client ends it.
        config.AppendLine("    timeout tunnel 1h");
        config.AppendLine("    retries 0");
        config.AppendLine("    no option redispatch");
        config.AppendLine("frontend service");
        config.AppendLine(CultureInfo.InvariantCulture, $"    bind 127.0.0.1:{port}");
        config.AppendLine("    default_backend pods");
        config.AppendLine("backend pods");
        config.AppendLine("    balance roundrobin");
        if (mode == BalancerMode.Http)
        {
            config.AppendLine("    http-reuse always");
        }

        config.AppendLine("    option httpchk GET /ifready");
        if (checkUserAgent is not null)
        {
            // The checks then stand for the kubelet's readiness probes, and the removal for the endpoint's.
            config.AppendLine(CultureInfo.InvariantCulture, $"    http-check send hdr User-Agent {checkUserAgent}");
        }

        config.AppendLine("    http-check expect status 200");
        // A slow balancer (inter 4s fall 2) takes a server out 4-8 s after its readiness fails; fastinter keeps that pace.
        var inter = (int)checkInterval.TotalMilliseconds;
        config.AppendLine(CultureInfo.InvariantCulture, $"    default-server inter {inter}ms fastinter {inter}ms downinter 1s fall {checkFall} rise 1");
        for (var i = 0; i < slots.Count; i++)
        {
            config.AppendLine(CultureInfo.InvariantCulture, $"    server pod{i} 127.0.0.1:{slots[i]} check");
        }

        return config.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        if (Environment.GetEnvironmentVariable("DRILL_DEBUG") is { Length: > 0 })
        {
            Console.WriteLine(_process.Output);
        }

        _process.Signal(ChildProcess.SIGTERM);
        await _process.WaitForExitAsync(TimeSpan.FromSeconds(5));
        await _process.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private static readonly string[] Locations = ["/usr/sbin/haproxy", "/usr/bin/haproxy"];

    private static string FindBinary() =>
        Locations.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("haproxy was not found: install Debian's haproxy package (apt-get install -y haproxy).");
}
