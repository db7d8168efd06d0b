using System.Diagnostics;

namespace GracefulLifecycle.ProcessTests;

/// <summary>
/// A second host for tests: a network namespace joined to this one by a veth pair, 10.200.0.1 on this side and
/// 10.200.0.2 inside. Calls made from inside come from a real non-loopback address. Needs root and <c>ip</c>; the
/// namespace and the pair are deleted on dispose. Traffic goes only between these two addresses.
/// </summary>
internal sealed class NetworkNamespace : IAsyncDisposable
{
    public const string HostAddress = "10.200.0.1";
    public const string PeerAddress = "10.200.0.2";

    private static readonly Lazy<string?> Unsupported = new(Probe);

    private NetworkNamespace(string name) => Name = name;

    public string Name { get; }

    /// <summary>Gets why namespaces cannot be used here, or <see langword="null"/> when they can.</summary>
    public static string? WhyUnsupported => Unsupported.Value;

    public static async Task<NetworkNamespace> CreateAsync()
    {
        // Names start with gl10 (this suite's prefix) and carry the process id, so a parallel run never collides.
        var id = (Environment.ProcessId % 100000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var ns = new NetworkNamespace("gl10n" + id);
        var hostSide = "gl10h" + id;
        var peerSide = "gl10p" + id;
        await RunIpAsync("netns", "del", ns.Name).ConfigureAwait(false); // a leftover of a killed run
        try
        {
            await MustAsync("netns", "add", ns.Name);
            await MustAsync("link", "add", hostSide, "type", "veth", "peer", "name", peerSide);
            await MustAsync("link", "set", peerSide, "netns", ns.Name);
            await MustAsync("addr", "add", HostAddress + "/24", "dev", hostSide);
            await MustAsync("link", "set", hostSide, "up");
            await MustAsync("-n", ns.Name, "addr", "add", PeerAddress + "/24", "dev", peerSide);
            await MustAsync("-n", ns.Name, "link", "set", peerSide, "up");
            await MustAsync("-n", ns.Name, "link", "set", "lo", "up");
            return ns;
        }
        catch
        {
            await ns.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs <c>curl</c> inside the namespace and returns the HTTP status code it got (0 when none).</summary>
    public async Task<int> CurlAsync(string method, Uri url, params string[] headers)
    {
        var args = new List<string> { "netns", "exec", Name, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10", "-X", method };
        foreach (var header in headers)
        {
            args.Add("-H");
            args.Add(header);
        }

        args.Add(url.ToString());
        var (_, output) = await RunAsync("ip", args).ConfigureAwait(false);
        return int.TryParse(output.Trim(), out var code) ? code : 0;
    }

    public async ValueTask DisposeAsync()
    {
        // Deleting the namespace deletes the peer inside it, and with it the pair.
        await RunIpAsync("netns", "del", Name).ConfigureAwait(false);
    }

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "network namespaces need Linux";
        }

        var name = "gl10probe" + (Environment.ProcessId % 100000);
        try
        {
            var (code, output) = RunAsync("ip", ["netns", "add", name]).GetAwaiter().GetResult();
            if (code != 0)
            {
                return $"'ip netns add' is not permitted here (exit {code}: {output.Trim()}); run as root with iproute2";
            }

            RunAsync("ip", ["netns", "del", name]).GetAwaiter().GetResult();
            var (curl, _) = RunAsync("curl", ["--version"]).GetAwaiter().GetResult();
            return curl == 0 ? null : "curl is not installed";
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return $"'ip' or 'curl' cannot be run: {ex.Message}";
        }
    }

    private static async Task MustAsync(params string[] args)
    {
        var (code, output) = await RunIpAsync(args).ConfigureAwait(false);
        if (code != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', args)} failed (exit {code}): {output}");
        }
    }

    private static Task<(int Code, string Output)> RunIpAsync(params string[] args) => RunAsync("ip", args);

    private static async Task<(int Code, string Output)> RunAsync(string file, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        return (process.ExitCode, await stdout.ConfigureAwait(false) + await stderr.ConfigureAwait(false));
    }
}

/// <summary>A fact that needs <see cref="NetworkNamespace"/>: skipped, with the reason, where namespaces cannot be made.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class NetworkNamespaceFactAttribute : FactAttribute
{
    public NetworkNamespaceFactAttribute()
    {
        if (NetworkNamespace.WhyUnsupported is { } why)
        {
            Skip = "Needs a network namespace: " + why;
        }
    }
}
