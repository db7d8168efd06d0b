using System.Diagnostics;
using System.Net.Sockets;

namespace GracefulLifecycle.Drill;

/// <summary>One replica (a pod) on a fixed loopback port: started, probed for readiness, terminated like the kubelet does.</summary>
internal sealed class Replica : IAsyncDisposable
{
    private static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(2) };
    private readonly ChildProcess _process;

    private Replica(int port, ChildProcess process)
    {
        Port = port;
        _process = process;
    }

    public int Port { get; }

    public Uri Address => new($"http://127.0.0.1:{Port}/");

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Output => _process.Output;

    /// <summary>
    /// Reads the replica's resident set size (KiB) and open file descriptors from /proc, for the soak figures;
    /// (0, 0) where /proc is missing or the process is gone.
    /// </summary>
    public (long RssKiB, int Handles) Resources()
    {
        try
        {
            var status = File.ReadLines($"/proc/{_process.Id}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            var rss = status is null ? 0 : long.Parse(status["VmRSS:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            return (rss, Directory.GetFiles($"/proc/{_process.Id}/fd").Length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return (0, 0);
        }
    }

    /// <summary>Gets the time from SIGTERM to exit (to SIGKILL when killed) of the last <see cref="TerminateAsync"/>.</summary>
    public TimeSpan SigTermToExit { get; private set; }

    /// <summary>Gets when the last <see cref="TerminateAsync"/> sent SIGTERM, as a <see cref="Stopwatch.GetTimestamp"/> value.</summary>
    public long SignalledAt { get; private set; }

    /// <summary>Starts the app on a loopback port.</summary>
    /// <param name="appDll">The app to run with <c>dotnet</c>.</param>
    /// <param name="port">The loopback port it listens on.</param>
    /// <param name="settings">Environment variables added to the replica's defaults.</param>
    /// <param name="cpus">A <c>taskset</c> CPU list to pin the process to (the benchmarks use it); none by default.</param>
    public static Replica Start(string appDll, int port, IReadOnlyDictionary<string, string> settings, string? cpus = null)
    {
        var environment = new Dictionary<string, string>(settings)
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        var process = cpus is null
            ? new ChildProcess("dotnet", [appDll], environment)
            : new ChildProcess("taskset", ["-c", cpus, "dotnet", appDll], environment);
        return new Replica(port, process);
    }

    /// <summary>Polls readiness as the kubelet's probe does, until it answers 200.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var response = await Probe.GetAsync(new Uri(Address, "ifready"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or SocketException)
            {
                // Not listening yet.
            }

            if (_process.HasExited || deadline.Elapsed > timeout)
            {
                throw new InvalidOperationException($"Replica on port {Port} did not become ready. Output:{Environment.NewLine}{_process.Output}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>
    /// Terminates the replica as the kubelet does: the preStop hook (an HTTP GET whose answer it waits for), then
    /// SIGTERM, then SIGKILL when the grace period, counted from the start of preStop, runs out.
    /// </summary>
    /// <returns>Whether the replica exited by itself within the grace period.</returns>
    public async Task<bool> TerminateAsync(bool preStop, TimeSpan gracePeriod)
    {
        var clock = Stopwatch.StartNew();
        if (preStop)
        {
            try
            {
                using var hook = new HttpClient { Timeout = gracePeriod };
                using var response = await hook.GetAsync(new Uri(Address, "prestop"));
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or SocketException)
            {
                // The kubelet logs a failed hook and goes on with SIGTERM.
            }
        }

        _process.Signal(ChildProcess.SIGTERM);
        SignalledAt = Stopwatch.GetTimestamp();
        var signalled = Stopwatch.StartNew();
        var left = gracePeriod - clock.Elapsed;
        if (left > TimeSpan.Zero && await _process.WaitForExitAsync(left))
        {
            SigTermToExit = signalled.Elapsed;
            return true;
        }

        SigTermToExit = signalled.Elapsed;
        _process.Signal(ChildProcess.SIGKILL);
        await _process.WaitForExitAsync(TimeSpan.FromSeconds(10));
        return false;
    }

    /// <summary>Sends a signal and returns at once; the benchmarks time what follows themselves.</summary>
    public void Signal(int signal) => _process.Signal(signal);

    public Task<bool> WaitForExitAsync(TimeSpan timeout) => _process.WaitForExitAsync(timeout);

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
