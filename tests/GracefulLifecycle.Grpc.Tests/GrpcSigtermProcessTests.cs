using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using GracefulLifecycle.TestSupport;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace GracefulLifecycle.Grpc.Tests;

/// <summary>
/// The gRPC test server as a real process (<c>dotnet GracefulLifecycle.Grpc.TestApp.dll</c>) sent a real SIGTERM, as
/// the kubelet sends it: the library's own signal path, not a call into it.
/// </summary>
public sealed partial class GrpcSigtermProcessTests(ITestOutputHelper output)
{
    private const int SIGTERM = 15;

    [Fact]
    public async Task Watch_SeesNotServing_Within100ms_OfARealSigterm_AndTheProcessExitsCleanly()
    {
        var lines = new ConcurrentQueue<string>();
        var clock = Stopwatch.StartNew();
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
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["GracefulLifecycle__ShutdownDelay"] = "00:00:02";
        start.Environment["GracefulLifecycle__DrainTimeout"] = "00:00:02";
        start.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        start.Environment["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ";

        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } l)
            {
                lines.Enqueue($"[{clock.ElapsedMilliseconds,6} ms] {l}");
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } l)
            {
                lines.Enqueue($"[{clock.ElapsedMilliseconds,6} ms] {l}");
            }
        };
        ChildProcessLeash.Start(process);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var address = await WaitForAddressAsync(lines, process);
            using var channel = GrpcChannel.ForAddress(address);
            var client = new Health.HealthClient(channel);
            using var watch = client.Watch(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(30));
            await ReadUntilAsync(watch, ServingStatus.Serving);

            var sent = Stopwatch.StartNew();
            output.WriteLine($"SIGTERM sent at {DateTime.Now:HH:mm:ss.fff}");
            Assert.Equal(0, Kill(process.Id, SIGTERM));
            await ReadUntilAsync(watch, ServingStatus.NotServing);
            var elapsed = sent.Elapsed;
            output.WriteLine($"NOT_SERVING received at {DateTime.Now:HH:mm:ss.fff}");

            Assert.True(elapsed < TimeSpan.FromMilliseconds(100), $"NOT_SERVING arrived {elapsed.TotalMilliseconds:F1} ms after SIGTERM");
            output.WriteLine($"NOT_SERVING {elapsed.TotalMilliseconds:F1} ms after SIGTERM");

            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(exit.Token);
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            output.WriteLine(string.Join(Environment.NewLine, lines));
        }
    }

    private static async Task<string> WaitForAddressAsync(ConcurrentQueue<string> lines, Process process)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30) && !process.HasExited)
        {
            if (lines.Select(l => ListeningAddress().Match(l)).FirstOrDefault(m => m.Success) is { } match)
            {
                return match.Groups[1].Value;
            }

            await Task.Delay(10);
        }

        throw new TimeoutException("The gRPC test server did not report its address:" + Environment.NewLine + string.Join(Environment.NewLine, lines));
    }

    private static async Task ReadUntilAsync(AsyncServerStreamingCall<HealthCheckResponse> watch, ServingStatus status)
    {
        while (await watch.ResponseStream.MoveNext(CancellationToken.None))
        {
            if (watch.ResponseStream.Current.Status == status)
            {
                return;
            }
        }

        throw new InvalidOperationException($"The Watch stream ended before {status}.");
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningAddress();

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
