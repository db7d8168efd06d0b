using System.Diagnostics;
using System.Globalization;
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

    private Haproxy(ChildProcess process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    private string _socket = string.Empty;

    /// <summary>Reads which servers HAProxy has UP, through its runtime API (<c>show stat</c>).</summary>
    public async Task<IReadOnlyList<int>> ServersUpAsync(IReadOnlyList<int> slots)
    {
        using var client = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        await client.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(_socket));
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
        var up = new List<int>();
        foreach (var line in lines.Skip(1))
        {
            var fields = line.Split(',');
            if (fields.Length > status && fields[name].StartsWith("pod", StringComparison.Ordinal) && fields[status].StartsWith("UP", StringComparison.Ordinal))
            {
                up.Add(slots[int.Parse(fields[name].AsSpan(3), CultureInfo.InvariantCulture)]);
            }
        }

        return up;
    }

    public static async Task<Haproxy> StartAsync(BalancerMode mode, int port, IReadOnlyList<int> slots)
    {
        var directory = Directory.CreateTempSubdirectory("drill-haproxy-").FullName;
        var config = Path.Combine(directory, "haproxy.cfg");
        var socket = Path.Combine(directory, "admin.sock");
        await File.WriteAllTextAsync(config, Config(mode, port, slots, socket));
        var process = new ChildProcess(FindBinary(), ["-db", "-f", config]);
        var haproxy = new Haproxy(process, directory, port) { _socket = socket };

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
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
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

    public static string Config(BalancerMode mode, int port, IReadOnlyList<int> slots, string statsSocket)
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
        config.AppendLine("    http-check expect status 200");
        config.AppendLine("    default-server inter 1s fastinter 1s downinter 1s fall 1 rise 1");
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
