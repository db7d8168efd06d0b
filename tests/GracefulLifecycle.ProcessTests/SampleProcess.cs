using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using GracefulLifecycle.TestSupport;

namespace GracefulLifecycle.ProcessTests;

/// <summary>
/// The sample service as a child process (<c>dotnet GracefulLifecycle.Sample.dll</c>) on real Kestrel, bound to
/// 127.0.0.1 on a port the OS picks, configured through environment variables as an operator would.
/// </summary>
internal sealed partial class SampleProcess : IAsyncDisposable
{
    public const int SIGHUP = 1;
    public const int SIGINT = 2;
    public const int SIGTERM = 15;
    public const int SIGCONT = 18;
    public const int SIGSTOP = 19;

    private const int SIGQUIT = 3;
    private const nint DefaultDisposition = 0;
    private const nint ErrorDisposition = -1;

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly ITestOutputHelper _output;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    static SampleProcess() => RestoreIgnoredSignals(SIGINT, SIGQUIT);

    private SampleProcess(Process process, ITestOutputHelper output)
    {
        _process = process;
        _output = output;
    }

    public Uri BaseAddress { get; private set; } = null!;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output => string.Join(Environment.NewLine, _lines);

    public static Task<SampleProcess> StartAsync(ITestOutputHelper output, params (string Key, string Value)[] settings) =>
        StartAsync(output, "http://127.0.0.1:0", settings);

    /// <summary>Starts the sample listening on <paramref name="urls"/> (loopback or an address of a test network namespace).</summary>
    public static async Task<SampleProcess> StartAsync(ITestOutputHelper output, string urls, params (string Key, string Value)[] settings)
    {
        var sample = Launch(output, urls, settings);
        try
        {
            var listening = await sample.WaitForLogAsync("Now listening on: ", TimeSpan.FromSeconds(30));
            sample.BaseAddress = new Uri(ListeningAddress().Match(listening).Groups[1].Value);
            return sample;
        }
        catch
        {
            // The caller never gets the instance to dispose: no child may outlive the test.
            await sample.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the sample without waiting for it to listen (it may never: a start that fails).</summary>
    public static SampleProcess Launch(ITestOutputHelper output, string urls, params (string Key, string Value)[] settings)
    {
        var directory = AppContext.BaseDirectory;
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(directory, "GracefulLifecycle.Sample.dll"));
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(urls);
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        start.Environment["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ";
        foreach (var (key, value) in settings)
        {
            // The same form an operator uses: GracefulLifecycle__ShutdownDelay=00:00:05.
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var sample = new SampleProcess(process, output);
        process.OutputDataReceived += (_, e) => sample.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => sample.OnLine(e.Data);
        // On the leash: the kernel kills the sample if the test host dies first (killed, or a canceled run).
        ChildProcessLeash.Start(process);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return sample;
    }

    /// <summary>Starts the sample with a 200 ms preload, so tests get to the part they are about.</summary>
    public static Task<SampleProcess> StartQuickAsync(ITestOutputHelper output, params (string Key, string Value)[] settings) =>
        StartAsync(output, [("Sample:PreloadDuration", "00:00:00.200"), .. settings]);

    /// <summary>A client for the tests' own calls: connect fails fast, a slow answer is waited for.</summary>
    public static HttpClient NewClient() => new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) })
    {
        Timeout = TimeSpan.FromSeconds(90),
    };

    /// <summary>Sends a real signal to any process the test started (etcd paused with SIGSTOP, for example).</summary>
    public static void Signal(int processId, int signal)
    {
        if (Kill(processId, signal) != 0)
        {
            throw new InvalidOperationException($"kill({processId}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Gets the resident set size of the process in bytes, or null once it has exited.</summary>
    public long? ResidentBytes()
    {
        try
        {
            var line = File.ReadLines($"/proc/{_process.Id}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? null : long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Sends a real signal to the process, as the kubelet does.</summary>
    public void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public async Task<string> WaitForLogAsync(string fragment, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var line = _lines.FirstOrDefault(l => l.Contains(fragment, StringComparison.Ordinal));
            if (line is not null)
            {
                return line;
            }

            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"No log line with '{fragment}' within {timeout}. Output so far:{Environment.NewLine}{Output}");
            }

            if (_process.HasExited)
            {
                // Once the process has exited, waiting for it also waits until its output has been read to the end.
                await _process.WaitForExitAsync();
                if (_lines.All(l => !l.Contains(fragment, StringComparison.Ordinal)))
                {
                    throw new InvalidOperationException($"The process exited (code {_process.ExitCode}) before logging '{fragment}'. Output:{Environment.NewLine}{Output}");
                }

                continue;
            }

            await Task.Delay(10);
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The process did not exit within {timeout}. Output:{Environment.NewLine}{Output}");
        }

        return _process.ExitCode;
    }

    /// <summary>Polls readiness until it answers 200.</summary>
    public async Task WaitUntilReadyAsync(HttpClient client, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var response = await client.GetAsync(new Uri(BaseAddress, "/ifready"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or SocketException)
            {
                // Not listening yet.
            }

            if (deadline.Elapsed > timeout || _process.HasExited)
            {
                throw new TimeoutException($"Not ready within {timeout}. Output:{Environment.NewLine}{Output}");
            }

            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _output.WriteLine(Output);
        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is not null)
        {
            _lines.Enqueue($"[{_clock.ElapsedMilliseconds,6} ms] {line}");
        }
    }

    /// <summary>
    /// A non-interactive shell starts a background job (<c>.ci/run &amp;</c>) with SIGINT and SIGQUIT ignored, a child
    /// inherits an ignored signal through exec, and the runtime then leaves it ignored: the sample would never see the
    /// SIGINT a test sends. A container runtime starts the app with default dispositions, so restore those here
    /// before any child starts. This applies to the test process too: a SIGINT or SIGQUIT sent to it then ends it, as
    /// it would a foreground run. A signal this process handles is left alone.
    /// </summary>
    private static void RestoreIgnoredSignals(params int[] signals)
    {
        var status = File.Exists("/proc/self/status") ? File.ReadAllLines("/proc/self/status") : [];
        var line = status.FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        if (line is null)
        {
            return;
        }

        var ignored = ulong.Parse(line["SigIgn:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        foreach (var signal in signals)
        {
            if ((ignored & (1UL << (signal - 1))) != 0 && SetDisposition(signal, DefaultDisposition) == ErrorDisposition)
            {
                throw new InvalidOperationException($"signal({signal}, SIG_DFL) failed: errno {Marshal.GetLastPInvokeError()}");
            }
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [DllImport("libc", EntryPoint = "signal", SetLastError = true)]
    private static extern nint SetDisposition(int signal, nint handler);

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningAddress();
}
