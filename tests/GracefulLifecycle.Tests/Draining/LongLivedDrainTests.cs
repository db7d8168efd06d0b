using System.Diagnostics.Metrics;
using System.Net.WebSockets;
using System.Text;
using GracefulLifecycle.Diagnostics;
using GracefulLifecycle.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.Tests.Draining;

/// <summary>
/// The drain with long-lived work on real Kestrel and fake time (delay 5 s, drain 10 s, WebSocket close delay 1 s):
/// tracked work and WebSockets hold the drain only as long as they need, and what outlasts it is named and aborted.
/// </summary>
public sealed class LongLivedDrainTests
{
    private static readonly TimeSpan Delay = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan CloseDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(10);

    // Configuration wins over code, and the sample's appsettings.json sits next to these tests: set them here.
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["GracefulLifecycle:ShutdownDelay"] = "00:00:05",
        ["GracefulLifecycle:DrainTimeout"] = "00:00:10",
        ["GracefulLifecycle:WebSocketCloseDelay"] = "00:00:01",
    };

    [Fact]
    public async Task TrackedWork_HoldsTheDrain_UntilItEnds_ThenTheHostStopsAtOnce()
    {
        await using var host = await LifecycleTestHost.StartAsync(settings: Settings);
        await host.AdvanceUntilAsync(() => host.Lifecycle.Phase == LifecyclePhase.Ready, "ready");
        var work = host.Lifecycle.BeginWork("invoice-42");

        var stop = host.BeginStopAsync();
        await host.Time.AdvanceUntilAsync(() => host.Lifecycle.Draining.IsCancellationRequested, "the drain", TimeSpan.FromMilliseconds(500));
        host.Time.Advance(Drain / 2);
        Assert.False(stop.IsCompleted);
        Assert.False(work.Aborted.IsCancellationRequested);

        await work.DisposeAsync();
        await stop.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.DoesNotContain(host.Logs.Lines, m => m.Contains("abandoned", StringComparison.Ordinal));
        Assert.Contains(host.Logs.Lines, m => m.Contains("All tracked work ended", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TrackedWork_StillRunningAtTheDeadline_IsNamedCountedAndAborted()
    {
        using var abandoned = new CounterRecorder("gracefullifecycle.drain.abandoned_work");
        await using var host = await LifecycleTestHost.StartAsync(settings: Settings);
        await host.AdvanceUntilAsync(() => host.Lifecycle.Phase == LifecyclePhase.Ready, "ready");
        using var work = host.Lifecycle.BeginWork("invoice-42");

        var stop = host.BeginStopAsync();
        await host.Time.AdvanceUntilAsync(() => host.Lifecycle.Draining.IsCancellationRequested, "the drain", TimeSpan.FromMilliseconds(500));
        host.Time.Advance(Drain - TimeSpan.FromMilliseconds(600));
        Assert.False(work.Aborted.IsCancellationRequested);

        host.Time.Advance(TimeSpan.FromMilliseconds(600));
        Assert.True(work.Aborted.IsCancellationRequested);

        // Half the shutdown margin (1 s) to save what it can; this work ignores its token, so the host goes on after it.
        var deadline = host.Time.GetUtcNow();
        Assert.False(stop.IsCompleted);
        await host.Time.AdvanceUntilAsync(() => stop.IsCompleted, "the host stops", TimeSpan.FromMilliseconds(100));
        Assert.InRange(host.Time.GetUtcNow() - deadline, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1.5));

        Assert.Contains(host.Logs.Lines, m => m.Contains("Work invoice-42 still running after", StringComparison.Ordinal));
        Assert.Equal(1, abandoned.Total);
    }

    [Fact]
    public async Task QueueWorker_FinishesTheItemItHolds_InsteadOfBeingCancelledWhenTheHostStopsIt()
    {
        var worker = new HoldingWorkerProbe();
        await using var host = await LifecycleTestHost.StartAsync(settings: Settings, services: s => s.AddHostedService(sp =>
            new HoldingWorker(sp.GetRequiredService<IGracefulLifecycle>(), worker)));
        await host.AdvanceUntilAsync(() => host.Lifecycle.Phase == LifecyclePhase.Ready, "ready");
        await worker.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var stop = host.BeginStopAsync();
        await host.Time.AdvanceUntilAsync(() => host.Lifecycle.Draining.IsCancellationRequested, "the drain", TimeSpan.FromMilliseconds(500));
        host.Time.Advance(Drain / 2);

        // The host has asked every service to stop; the item is still running and its token has not fired.
        Assert.False(stop.IsCompleted);
        Assert.False(worker.ItemToken.IsCancellationRequested);

        worker.Release.SetResult();
        await stop.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, worker.Completed);
        Assert.Equal(1, worker.Taken);
    }

    [Fact]
    public async Task QueueWorker_ItemsAcceptedButNotStartedAtTheDeadline_AreNamedAndCounted_SoEveryItemIsAccountedFor()
    {
        using var abandoned = new CounterRecorder("gracefullifecycle.drain.abandoned_work");
        using var notStarted = new CounterRecorder("gracefullifecycle.drain.not_started_work");
        var queue = System.Threading.Channels.Channel.CreateUnbounded<string>();
        var processed = new List<string>();
        var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await LifecycleTestHost.StartAsync(settings: Settings, services: s => s.AddHostedService(sp =>
            new InMemoryQueueWorker(sp.GetRequiredService<IGracefulLifecycle>(), queue.Reader, processed, holding)));
        await host.AdvanceUntilAsync(() => host.Lifecycle.Phase == LifecyclePhase.Ready, "ready");

        // job-1 runs to its end, job-2 holds the worker past the drain deadline, job-3 to job-5 wait behind it.
        var accepted = Enumerable.Range(1, 5).Select(i => $"job-{i}").ToList();
        accepted.ForEach(job => queue.Writer.TryWrite(job));
        queue.Writer.Complete();
        await holding.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var stop = host.BeginStopAsync();
        await host.Time.AdvanceUntilAsync(() => stop.IsCompleted, "the drain deadline and the host's stop", TimeSpan.FromMilliseconds(500));

        var lines = host.Logs.Lines;
        var cutOff = accepted.Where(j => lines.Any(l => l.Contains($"Work {j} still running after", StringComparison.Ordinal))).ToList();
        var neverStarted = accepted.Where(j => lines.Any(l => l.Contains($"[73] Work {j} was accepted but never started", StringComparison.Ordinal))).ToList();
        Assert.Equal(["job-1"], processed);
        Assert.Equal(["job-2"], cutOff);
        Assert.Equal(["job-3", "job-4", "job-5"], neverStarted);
        Assert.Contains(lines, l => l.Contains("[74] Units of accepted work never started before the drain deadline: 3 (3 named above)", StringComparison.Ordinal));
        Assert.Equal(1, abandoned.Total);
        Assert.Equal(3, notStarted.Total);
        Assert.False(queue.Reader.TryRead(out _));
    }

    [Fact]
    public async Task PeriodicWorker_RunsEveryPeriod_FinishesTheRunInProgressAtLeaving_ThenRunsNoMore()
    {
        var job = new SteppedJobProbe();
        await using var host = await LifecycleTestHost.StartAsync(settings: Settings, services: s => s.AddHostedService(sp =>
            new SteppedJob(sp.GetRequiredService<IGracefulLifecycle>(), sp.GetRequiredService<TimeProvider>(), job)));
        await host.AdvanceUntilAsync(() => host.Lifecycle.Phase == LifecyclePhase.Ready, "ready");
        await host.AdvanceUntilAsync(() => job.Runs == 1 && job.Steps == 3, "the first run", TimeSpan.FromSeconds(1));
        await host.AdvanceUntilAsync(() => job.Runs == 2, "the second run, a period later", TimeSpan.FromSeconds(5));
        await job.InStep.WaitAsync(TimeSpan.FromSeconds(10));

        // Leaving in the middle of a step: the step finishes, the job saves and returns, the drain waits for it.
        var stop = host.BeginStopAsync();
        await host.Time.AdvanceUntilAsync(() => host.Lifecycle.Draining.IsCancellationRequested, "the drain", TimeSpan.FromMilliseconds(500));
        Assert.False(stop.IsCompleted);
        job.ReleaseStep();
        await stop.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(2, job.Runs);
        Assert.Equal(1, job.SavedAtStep);
    }

    /// <summary>Over HTTP/1.1 (an upgrade) and over HTTP/2 (an extended CONNECT, RFC 8441): the same tracking and the same close.</summary>
    [Theory]
    [InlineData("HTTP/1.1")]
    [InlineData("HTTP/2")]
    public async Task WebSocket_TheAppLeavesOpen_IsClosedWith1001AfterTheCloseDelay_WithAFullHandshake(string protocol)
    {
        var handler = new TaskCompletionSource<WebSocketCloseStatus?>(TaskCreationOptions.RunContinuationsAsynchronously);
        string? accepted = null;
        await using var host = await LifecycleTestHost.StartAsync(
            settings: Settings,
            map: app =>
            {
                app.UseWebSockets();
                app.Map("/ws", context =>
                {
                    accepted = context.Request.Protocol;
                    return PlainEchoAsync(context, handler);
                });
            },
            services: s => s.Configure<KestrelServerOptions>(kestrel => kestrel.ConfigureEndpointDefaults(listen =>
            {
                // Without TLS there is no negotiation: an endpoint that also speaks HTTP/1.1 refuses HTTP/2 (HTTP_1_1_REQUIRED).
                listen.Protocols = protocol == "HTTP/2" ? HttpProtocols.Http2 : HttpProtocols.Http1;
            })));
        await host.AdvanceUntilAsync(() => host.Lifecycle.Phase == LifecyclePhase.Ready, "ready");
        using var socket = new ClientWebSocket();
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler());
        if (protocol == "HTTP/2")
        {
            // Prior knowledge over cleartext, as the endpoint speaks HTTP/2 only.
            socket.Options.HttpVersion = System.Net.HttpVersion.Version20;
            socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        }

        await socket.ConnectAsync(new UriBuilder(new Uri(host.BaseAddress, "/ws")) { Scheme = "ws" }.Uri, invoker, CancellationToken.None);
        Assert.Equal("one", await EchoAsync(socket, "one"));
        Assert.Equal(protocol, accepted);

        var stop = host.BeginStopAsync();
        await host.Time.AdvanceUntilAsync(() => host.Lifecycle.Draining.IsCancellationRequested, "the drain", TimeSpan.FromMilliseconds(500));
        Assert.Equal("during the drain", await EchoAsync(socket, "during the drain"));

        host.Time.Advance(CloseDelay);
        var buffer = new byte[128];
        var close = await socket.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(WebSocketMessageType.Close, close.MessageType);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, close.CloseStatus);
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);

        // The application's handler sees a client-initiated close and completes its own CloseAsync without error.
        Assert.Equal(WebSocketCloseStatus.NormalClosure, await handler.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        await stop.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(WebSocketState.Closed, socket.State);
        Assert.DoesNotContain(host.Logs.Lines, m => m.Contains("aborting", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WebSocket_TheAppClosesOnDraining_GetsNoSecondCloseFrame()
    {
        var handler = new TaskCompletionSource<WebSocketCloseStatus?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await LifecycleTestHost.StartAsync(settings: Settings, map: app =>
        {
            app.UseWebSockets();
            app.Map("/ws", async context =>
            {
                using var ws = await context.WebSockets.AcceptWebSocketAsync();
                await Task.Delay(Timeout.Infinite, context.GetDrainingToken()).ContinueWith(_ => { }, TaskScheduler.Default);
                await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                handler.SetResult(ws.CloseStatus);

                // Still tracked when the library's close delay passes: it must see the app's close and send none.
                await release.Task;
            });
        });
        await host.AdvanceUntilAsync(() => host.Lifecycle.Phase == LifecyclePhase.Ready, "ready");
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new UriBuilder(new Uri(host.BaseAddress, "/ws")) { Scheme = "ws" }.Uri, CancellationToken.None);

        var stop = host.BeginStopAsync();
        await host.Time.AdvanceUntilAsync(() => host.Lifecycle.Draining.IsCancellationRequested, "the drain", TimeSpan.FromMilliseconds(500));
        var close = await socket.ReceiveAsync(new byte[128], CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(WebSocketCloseStatus.NormalClosure, close.CloseStatus);
        Assert.Equal("bye", close.CloseStatusDescription);
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, await handler.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        host.Time.Advance(CloseDelay);
        release.SetResult();
        await stop.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.DoesNotContain(host.Logs.Lines, m => m.Contains("Closing", StringComparison.Ordinal) && m.Contains("WebSockets", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WebSocket_AHandlerThatOnlySends_IsClosedWith1001_ThenAbortedAfterTheHandshakeTimeout_NotAtTheDeadline()
    {
        await using var host = await LifecycleTestHost.StartAsync(settings: Settings, map: app =>
        {
            app.UseWebSockets();
            app.Map("/ticker", async context =>
            {
                using var ws = await context.WebSockets.AcceptWebSocketAsync();
                try
                {
                    // Never reads: it cannot see the client's answer to a close frame.
                    while (true)
                    {
                        await ws.SendAsync("tick"u8.ToArray(), WebSocketMessageType.Text, true, context.RequestAborted);
                        await Task.Delay(10, context.RequestAborted);
                    }
                }
                catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
                {
                    // Aborted.
                }
            });
        });
        await host.AdvanceUntilAsync(() => host.Lifecycle.Phase == LifecyclePhase.Ready, "ready");
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new UriBuilder(new Uri(host.BaseAddress, "/ticker")) { Scheme = "ws" }.Uri, CancellationToken.None);

        var stop = host.BeginStopAsync();
        await host.Time.AdvanceUntilAsync(() => host.Lifecycle.Draining.IsCancellationRequested, "the drain", TimeSpan.FromMilliseconds(500));
        host.Time.Advance(CloseDelay);
        var buffer = new byte[64];
        WebSocketReceiveResult received;
        do
        {
            received = await socket.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        }
        while (received.MessageType != WebSocketMessageType.Close);

        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, received.CloseStatus);

        // A client that neither answers nor hangs up (most answer and close the connection, which ends such a
        // handler at once): only the handshake timeout ends this one, long before the drain deadline.
        host.Time.Advance(TimeSpan.FromSeconds(1.9));
        Assert.False(stop.IsCompleted);
        host.Time.Advance(TimeSpan.FromSeconds(0.1));
        await stop.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(host.Logs.Lines, m => m.Contains("aborting", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WebSocket_TheAppClosesOnDraining_AndTheClientNeverAnswers_IsAbortedAfterTheHandshakeTimeout_NotAtTheDeadline()
    {
        var handlerEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await LifecycleTestHost.StartAsync(settings: Settings, map: app =>
        {
            app.UseWebSockets();
            app.Map("/ws", async context =>
            {
                using var ws = await context.WebSockets.AcceptWebSocketAsync();
                try
                {
                    // As the docs recommend: close with 1001 when the drain starts, then wait for the client's answer.
                    await Task.Delay(Timeout.Infinite, context.GetDrainingToken()).ContinueWith(_ => { }, TaskScheduler.Default);
                    await ws.CloseAsync(WebSocketCloseStatus.EndpointUnavailable, "Server shutting down", CancellationToken.None);
                }
                catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
                {
                    // Aborted.
                }

                handlerEnded.SetResult();
            });
        });
        await host.AdvanceUntilAsync(() => host.Lifecycle.Phase == LifecyclePhase.Ready, "ready");

        // A raw client: it completes the upgrade and reads what the server sends, but never sends a close frame back.
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(System.Net.IPAddress.Loopback, host.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
        var received = new List<byte>();
        var buffer = new byte[1024];
        while (!Encoding.ASCII.GetString([.. received]).Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(read > 0, "the server closed the connection during the upgrade");
            received.AddRange(buffer.AsSpan(0, read).ToArray());
        }

        var head = Encoding.ASCII.GetString([.. received]);
        Assert.StartsWith("HTTP/1.1 101", head, StringComparison.Ordinal);
        received.RemoveRange(0, head.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4);

        var stop = host.BeginStopAsync();
        await host.Time.AdvanceUntilAsync(() => host.Lifecycle.Draining.IsCancellationRequested, "the drain", TimeSpan.FromMilliseconds(500));

        // The application's close frame (FIN + opcode 8, 1001) arrives; the clock has not moved since the drain began.
        while (received.Count < 4)
        {
            var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(read > 0, "the server closed the connection without a close frame");
            received.AddRange(buffer.AsSpan(0, read).ToArray());
        }

        Assert.Equal(0x88, received[0]);
        Assert.Equal(1001, (received[2] << 8) | received[3]);

        host.Time.Advance(TimeSpan.FromSeconds(1.9));
        Assert.False(stop.IsCompleted);
        Assert.False(handlerEnded.Task.IsCompleted);
        host.Time.Advance(TimeSpan.FromSeconds(0.1));
        await handlerEnded.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await stop.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(host.Logs.Lines, m => m.Contains("aborting", StringComparison.Ordinal));
    }

    private static async Task<string> EchoAsync(ClientWebSocket socket, string text)
    {
        await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[128];
        var result = await socket.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        return Encoding.UTF8.GetString(buffer, 0, result.Count);
    }

    /// <summary>The echo loop of the ASP.NET Core documentation: it knows nothing of the lifecycle.</summary>
    private static async Task PlainEchoAsync(HttpContext context, TaskCompletionSource<WebSocketCloseStatus?> done)
    {
        try
        {
            using var ws = await context.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[1024];
            var result = await ws.ReceiveAsync(buffer, CancellationToken.None);
            while (!result.CloseStatus.HasValue)
            {
                await ws.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, CancellationToken.None);
                result = await ws.ReceiveAsync(buffer, CancellationToken.None);
            }

            await ws.CloseAsync(result.CloseStatus.Value, result.CloseStatusDescription, CancellationToken.None);
            done.SetResult(result.CloseStatus);
        }
        catch (Exception ex)
        {
            done.SetException(ex);
        }
    }

    private sealed class HoldingWorkerProbe
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationToken ItemToken { get; set; }

        public int Taken { get; set; }

        public int Completed { get; set; }
    }

    /// <summary>Takes one item and holds it until released, recording whether the item's token fired.</summary>
    private sealed class HoldingWorker(IGracefulLifecycle lifecycle, HoldingWorkerProbe probe) : QueueWorker<string>(lifecycle)
    {
        protected override async IAsyncEnumerable<string> ReceiveAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken leaving)
        {
            probe.Taken++;
            yield return "item-1";
            await Task.Delay(Timeout.Infinite, leaving);
        }

        protected override async Task ProcessAsync(string item, CancellationToken aborted)
        {
            probe.ItemToken = aborted;
            probe.Started.SetResult();
            await probe.Release.Task.WaitAsync(aborted);
            probe.Completed++;
        }
    }

    /// <summary>Runs items from an in-memory queue: the first to its end, the second until aborted; hands over the rest.</summary>
    private sealed class InMemoryQueueWorker(
        IGracefulLifecycle lifecycle, System.Threading.Channels.ChannelReader<string> queue, List<string> processed, TaskCompletionSource holding)
        : QueueWorker<string>(lifecycle)
    {
        protected override IAsyncEnumerable<string> ReceiveAsync(CancellationToken leaving) => queue.ReadAllAsync(CancellationToken.None);

        protected override async Task ProcessAsync(string item, CancellationToken aborted)
        {
            if (item == "job-2")
            {
                holding.SetResult();
                await Task.Delay(Timeout.Infinite, aborted);
            }

            processed.Add(item);
        }

        protected override IEnumerable<string> TakeNotStarted()
        {
            while (queue.TryRead(out var item))
            {
                yield return item;
            }
        }
    }

    private sealed class SteppedJobProbe
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _inStep = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Runs;
        public int Steps;
        public int SavedAtStep = -1;

        public Task InStep => _inStep.Task;

        public Task WaitForReleaseAsync(CancellationToken aborted)
        {
            _inStep.TrySetResult();
            return _release.Task.WaitAsync(aborted);
        }

        public void ReleaseStep() => _release.TrySetResult();
    }

    /// <summary>A job of three steps a minute; its second run blocks in its first step until released.</summary>
    private sealed class SteppedJob(IGracefulLifecycle lifecycle, TimeProvider time, SteppedJobProbe probe)
        : PeriodicWorker(lifecycle, TimeSpan.FromMinutes(1), time)
    {
        protected override async Task RunOnceAsync(CancellationToken leaving, CancellationToken aborted)
        {
            var run = Interlocked.Increment(ref probe.Runs);
            for (var step = 0; step < 3; step++)
            {
                if (leaving.IsCancellationRequested)
                {
                    probe.SavedAtStep = step;
                    return;
                }

                if (run == 2)
                {
                    await probe.WaitForReleaseAsync(aborted);
                }

                Interlocked.Increment(ref probe.Steps);
            }
        }
    }

    /// <summary>Adds up what one of the library's counters records while it is alive.</summary>
    private sealed class CounterRecorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _total;

        public CounterRecorder(string instrument)
        {
            _listener.InstrumentPublished = (i, l) =>
            {
                if (i.Meter.Name == LifecycleMetrics.MeterName && i.Name == instrument)
                {
                    l.EnableMeasurementEvents(i);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _total, value));
            _listener.Start();
        }

        public long Total => Interlocked.Read(ref _total);

        public void Dispose() => _listener.Dispose();
    }
}
