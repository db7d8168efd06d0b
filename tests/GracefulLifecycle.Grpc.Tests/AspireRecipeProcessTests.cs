using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using GracefulLifecycle.TestSupport;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace GracefulLifecycle.Grpc.Tests;

/// <summary>
/// docs/health-checks.md's Aspire recipe on a real process (the test app with <c>TestApp__Aspire=true</c>: the
/// ServiceDefaults template's health checks and <c>MapDefaultEndpoints</c> as the template writes them, the lifecycle
/// beside them) and a real SIGTERM, in Production, where the template maps no endpoint, and in Development, where it
/// maps <c>/health</c> and <c>/alive</c>.
/// </summary>
public sealed partial class AspireRecipeProcessTests(ITestOutputHelper output)
{
    private const int SIGTERM = 15;

    [Fact]
    public async Task Production_LivenessAnswers200_AtEveryPhase_AndReadinessFollowsTheLifecycle()
    {
        await using var app = TestApp.Start("Production", preloadMs: 500, output);
        var address = await app.AddressAsync();
        using var http = Http2Client(address);

        // The template maps nothing outside Development: the recipe's liveness must not depend on it.
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(http, "/health")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(http, "/alive")).StatusCode);

        // Preloading: alive, not ready.
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, "/livez")).StatusCode);
        await UntilAsync(http, "/ifready", HttpStatusCode.OK, TimeSpan.FromSeconds(20));
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, "/livez")).StatusCode);

        Assert.Equal(0, Kill(app.Process.Id, SIGTERM));
        await UntilAsync(http, "/ifready", HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(5));

        // Leaving is not broken: liveness still passes during the shutdown delay.
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, "/livez")).StatusCode);
        Assert.Equal(0, await app.ExitCodeAsync());
    }

    [Fact]
    public async Task Development_ALifecycleWhileEveryHealthEndpointIsPolled_LogsNoErrorLine()
    {
        await using var app = TestApp.Start("Development", preloadMs: 1000, output);
        var address = await app.AddressAsync();
        using var http = Http2Client(address);
        using var channel = GrpcChannel.ForAddress(address);
        var health = new Health.HealthClient(channel);

        var seen = new ConcurrentDictionary<string, byte>();
        using var stop = new CancellationTokenSource();
        var polling = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await PollAsync(http, "/health", seen);
                await PollAsync(http, "/alive", seen);
                try
                {
                    var reply = await health.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(2));
                    seen[$"grpc {reply.Status}"] = 0;
                }
                catch (RpcException)
                {
                }

                try
                {
                    await Task.Delay(50, stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });

        await Eventually.TrueAsync(() => seen.ContainsKey("/health 200") && seen.ContainsKey("grpc Serving"), "ready, seen by /health and gRPC Check", TimeSpan.FromSeconds(20));
        Assert.Equal(0, Kill(app.Process.Id, SIGTERM));
        var exitCode = await app.ExitCodeAsync();
        await stop.CancelAsync();
        await polling;

        output.WriteLine("Seen: " + string.Join(", ", seen.Keys.Order()));
        Assert.Equal(0, exitCode);

        // The polls met every phase: Unhealthy while preloading and leaving, Healthy when ready, liveness always passing.
        Assert.Contains("/health 503", seen.Keys);
        Assert.Contains("/health 200", seen.Keys);
        Assert.Contains("/alive 200", seen.Keys);
        Assert.DoesNotContain("/alive 503", seen.Keys);
        Assert.Contains("grpc NotServing", seen.Keys);
        Assert.Contains("grpc Serving", seen.Keys);

        // One shutdown, one line telling the gRPC services went NOT_SERVING (leaving, draining and stopping are three phases).
        Assert.Single(app.Lines, l => l.Contains("LifecycleGrpcHealth[200]", StringComparison.Ordinal));

        var errors = app.Lines.Where(l => l.Contains("fail: ", StringComparison.Ordinal) || l.Contains("crit: ", StringComparison.Ordinal)).ToList();
        Assert.True(errors.Count == 0, $"{errors.Count} Error or Critical lines in a normal lifecycle:\n" + string.Join('\n', errors.Take(5)));
    }

    private static async Task PollAsync(HttpClient http, string path, ConcurrentDictionary<string, byte> seen)
    {
        try
        {
            seen[$"{path} {(int)(await GetAsync(http, path)).StatusCode}"] = 0;
        }
        catch (HttpRequestException)
        {
        }
        catch (TaskCanceledException)
        {
        }
    }

    private static async Task UntilAsync(HttpClient http, string path, HttpStatusCode status, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        HttpStatusCode last;
        while ((last = (await GetAsync(http, path)).StatusCode) != status)
        {
            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"{path} still answered {(int)last} after {timeout}, not {(int)status}");
            }

            await Task.Delay(20);
        }
    }

    private static HttpClient Http2Client(string address) => new()
    {
        BaseAddress = new Uri(address),
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = TimeSpan.FromSeconds(5),
    };

    private static async Task<HttpResponseMessage> GetAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        return response;
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    /// <summary>The test app as a child process, its output captured line by line.</summary>
    private sealed partial class TestApp : IAsyncDisposable
    {
        private readonly ConcurrentQueue<string> _lines = new();
        private readonly ITestOutputHelper _output;

        private TestApp(Process process, ITestOutputHelper output)
        {
            Process = process;
            _output = output;
        }

        public Process Process { get; }

        public IEnumerable<string> Lines => _lines;

        public static TestApp Start(string environment, int preloadMs, ITestOutputHelper output)
        {
            var start = new ProcessStartInfo("dotnet")
            {
                WorkingDirectory = AppContext.BaseDirectory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "GracefulLifecycle.Grpc.TestApp.dll"));
            start.ArgumentList.Add("--urls");
            start.ArgumentList.Add("http://127.0.0.1:0");
            start.Environment["ASPNETCORE_ENVIRONMENT"] = environment;
            start.Environment["DOTNET_ENVIRONMENT"] = environment;
            start.Environment["TestApp__Aspire"] = "true";
            start.Environment["TestApp__PreloadMs"] = preloadMs.ToString(System.Globalization.CultureInfo.InvariantCulture);
            start.Environment["GracefulLifecycle__ShutdownDelay"] = "00:00:01";
            start.Environment["GracefulLifecycle__DrainTimeout"] = "00:00:02";
            start.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
            start.Environment["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ";

            var process = new Process { StartInfo = start };
            var app = new TestApp(process, output);
            process.OutputDataReceived += (_, e) => app.Add(e.Data);
            process.ErrorDataReceived += (_, e) => app.Add(e.Data);
            ChildProcessLeash.Start(process);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return app;
        }

        public async Task<string> AddressAsync()
        {
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < TimeSpan.FromSeconds(30) && !Process.HasExited)
            {
                if (_lines.Select(l => ListeningAddress().Match(l)).FirstOrDefault(m => m.Success) is { } match)
                {
                    return match.Groups[1].Value;
                }

                await Task.Delay(10);
            }

            throw new TimeoutException("The test app did not report its address:\n" + string.Join('\n', _lines));
        }

        public async Task<int> ExitCodeAsync()
        {
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await Process.WaitForExitAsync(exit.Token);
            return Process.ExitCode;
        }

        public async ValueTask DisposeAsync()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                await Process.WaitForExitAsync();
            }

            _output.WriteLine(string.Join('\n', _lines));
            Process.Dispose();
        }

        private void Add(string? line)
        {
            if (line is not null)
            {
                _lines.Enqueue(line);
            }
        }

        [GeneratedRegex(@"Now listening on: (http://\S+)")]
        private static partial Regex ListeningAddress();
    }
}
