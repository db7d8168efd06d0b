using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using GracefulLifecycle.TestSupport;

namespace GracefulLifecycle.ProcessTests;

/// <summary>
/// Clients that would hold the shutdown past its budget, against the sample as a real process with real Kestrel and
/// real signals: the exit comes within the budget whatever they do.
/// </summary>
public sealed partial class HostileClientTests(ITestOutputHelper output)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task SlowHeadersSlowBodiesAndIdleConnections_AtSigterm_AreAbortedAtTheDrainDeadline_AndTheProcessExitsWithinTheBudget()
    {
        // A 12 s budget: delay 2 s + drain 8 s + margin 2 s, the whole grace period. The host's own shutdown timeout
        // stays at its 30 s default (the library raises it only when the budget is longer), counted from the drain.
        var delay = TimeSpan.FromSeconds(2);
        var drain = TimeSpan.FromSeconds(8);
        var budget = TimeSpan.FromSeconds(12);
        await using var app = await SampleProcess.StartQuickAsync(
            output,
            ("GracefulLifecycle:ShutdownDelay", "00:00:02"),
            ("GracefulLifecycle:DrainTimeout", "00:00:08"),
            ("GracefulLifecycle:ShutdownMargin", "00:00:02"),
            ("GracefulLifecycle:TerminationGracePeriod", "00:00:12"));
        using var client = SampleProcess.NewClient();
        await app.WaitUntilReadyAsync(client, StartTimeout);

        await using var clients = new SlowClients(app.BaseAddress);

        // 300 that never end their request headers, 10 that send a body a byte a second, 10 that send nothing.
        await clients.OpenAsync(300, "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ");
        await clients.OpenAsync(10, "POST /jobs?ms=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n");
        await clients.OpenAsync(10, prefix: null);
        clients.StartTrickling();

        // The server accepts connections in the order they arrived: once one opened after them is answered, it holds them all.
        using (var after = await client.GetAsync(new Uri(app.BaseAddress, "/health")))
        {
            Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        }

        var clock = Stopwatch.StartNew();
        app.Signal(SampleProcess.SIGTERM);
        var exitCode = await app.WaitForExitAsync(TimeSpan.FromSeconds(60));
        var elapsed = clock.Elapsed;

        Measurements.Record(output.WriteLine, "(slow clients) SIGTERM -> exit with 300 slow-header, 10 slow-body and 10 idle connections (budget 12 s: delay 2 s + drain 8 s + margin 2 s)", elapsed.TotalMilliseconds);
        Assert.Equal(0, exitCode);
        Assert.True(elapsed < budget, $"exited {elapsed.TotalSeconds:F1} s after SIGTERM, past the {budget.TotalSeconds} s budget");

        // Nothing cut the drain short: those clients held it to its deadline, where they were aborted.
        Assert.True(elapsed >= delay + drain, $"exited {elapsed.TotalSeconds:F1} s after SIGTERM, before the drain deadline");
        var aborted = AbortedConnections().Match(app.Output);
        Assert.True(aborted.Success, "no log line says the connections still open were aborted");
        Assert.True(int.Parse(aborted.Groups[1].Value, CultureInfo.InvariantCulture) >= 300, aborted.Value);
    }

    [SighupFact]
    public async Task Sighup_WithARequestInFlight_StopsGracefullyLikeSigterm_TheRequestCompletes_AndTheProcessExits0()
    {
        await using var app = await SampleProcess.StartQuickAsync(
            output, ("GracefulLifecycle:ShutdownDelay", "00:00:01"), ("GracefulLifecycle:DrainTimeout", "00:00:15"));
        using var client = SampleProcess.NewClient();
        await app.WaitUntilReadyAsync(client, StartTimeout);

        var elapsed = await InFlightRequest.CompletesAcrossAsync(app, client, SampleProcess.SIGHUP, TimeSpan.FromSeconds(30));

        Measurements.Record(output.WriteLine, "(sighup) SIGHUP -> exit with a 3 s request in flight (delay 1 s)", elapsed.TotalMilliseconds);
        Assert.Contains("Received SIGHUP", app.Output, StringComparison.Ordinal);
        Assert.Contains("Leaving (SIGHUP)", app.Output, StringComparison.Ordinal);
        Assert.Contains("requests aborted: 0", app.Output, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"aborting the connections still open \((\d+)\)")]
    private static partial Regex AbortedConnections();

    /// <summary>Raw TCP clients that send a request's start, then one byte a second, and never finish it.</summary>
    private sealed class SlowClients(Uri server) : IAsyncDisposable
    {
        private readonly List<(Socket Socket, bool Trickles)> _sockets = [];
        private readonly CancellationTokenSource _stop = new();
        private Task _trickle = Task.CompletedTask;

        /// <summary>Opens <paramref name="count"/> connections that send <paramref name="prefix"/> (nothing and never anything when null).</summary>
        public async Task OpenAsync(int count, string? prefix)
        {
            for (var i = 0; i < count; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                _sockets.Add((socket, prefix is not null));
                await socket.ConnectAsync(IPAddress.Loopback, server.Port);
                if (prefix is not null)
                {
                    await socket.SendAsync(Encoding.ASCII.GetBytes(prefix));
                }
            }
        }

        /// <summary>One byte a second on every connection that sent a prefix: a header value or a body that never ends.</summary>
        public void StartTrickling() => _trickle = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
            try
            {
                while (await timer.WaitForNextTickAsync(_stop.Token))
                {
                    foreach (var (socket, trickles) in _sockets)
                    {
                        if (trickles)
                        {
                            try
                            {
                                await socket.SendAsync("a"u8.ToArray());
                            }
                            catch (SocketException)
                            {
                                // The server closed it.
                            }
                        }
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // The test is over.
            }
        });

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _trickle;
            foreach (var (socket, _) in _sockets)
            {
                socket.Dispose();
            }

            _stop.Dispose();
        }
    }
}

/// <summary>
/// A fact that sends SIGHUP to the sample: skipped, with the reason, when this process has SIGHUP ignored (started
/// under <c>nohup</c>). The sample inherits that, and the runtime installs no handler for an ignored signal.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class SighupFactAttribute : FactAttribute
{
    public SighupFactAttribute()
    {
        var status = File.Exists("/proc/self/status") ? File.ReadAllLines("/proc/self/status") : [];
        var line = status.FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        if (line is not null && (ulong.Parse(line["SigIgn:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture) & 1) != 0)
        {
            Skip = "SIGHUP is ignored in this process (nohup?), so the sample would inherit it ignored";
        }
    }
}
