using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;

namespace GracefulLifecycle.Sample;

/// <summary>A job handed to <see cref="JobWorker"/> by <c>POST /jobs?ms=N</c>.</summary>
internal sealed record SampleJob(string Id, int Ms)
{
    public override string ToString() => Id;
}

/// <summary>
/// The sample's job queue: in memory, so it stops accepting when leaving starts (clients get 503 and go to another
/// instance) and the worker still runs every job it accepted before; jobs still queued when the drain deadline cuts
/// the worker off are taken out and reported by name (<see cref="JobWorker"/>), so each accepted job either runs or
/// is reported.
/// </summary>
internal sealed class JobQueue
{
    private readonly Channel<SampleJob> _jobs = Channel.CreateUnbounded<SampleJob>(new UnboundedChannelOptions { SingleReader = true });
    private long _next;

    public JobQueue(IGracefulLifecycle lifecycle) =>
        lifecycle.Leaving.Register(static state => ((JobQueue)state!)._jobs.Writer.TryComplete(), this);

    public ChannelReader<SampleJob> Reader => _jobs.Reader;

    /// <summary>Accepts a job, or returns null once the instance is leaving.</summary>
    public SampleJob? TryAccept(int ms)
    {
        var job = new SampleJob($"job-{Interlocked.Increment(ref _next)}", ms);
        return _jobs.Writer.TryWrite(job) ? job : null;
    }
}

/// <summary>
/// Runs the queued jobs one at a time; a job in progress at shutdown finishes during the drain, and the jobs behind it
/// run too if the drain lasts long enough, or are reported as never started at its deadline.
/// </summary>
internal sealed class JobWorker(IGracefulLifecycle lifecycle, JobQueue queue, ILogger<JobWorker> logger) : QueueWorker<SampleJob>(lifecycle)
{
    // The writer is completed when leaving starts: the sequence ends once every accepted job has been taken.
    protected override IAsyncEnumerable<SampleJob> ReceiveAsync(CancellationToken leaving) => queue.Reader.ReadAllAsync(CancellationToken.None);

    protected override string GetWorkName(SampleJob item) => item.Id;

    // The drain deadline came first: what is still queued never runs here, and the library names and counts each job.
    protected override IEnumerable<SampleJob> TakeNotStarted()
    {
        while (queue.Reader.TryRead(out var job))
        {
            yield return job;
        }
    }

    protected override async Task ProcessAsync(SampleJob item, CancellationToken aborted)
    {
        SampleLog.JobStarted(logger, item.Id, item.Ms);
        try
        {
            await Task.Delay(item.Ms, aborted);
        }
        catch (OperationCanceledException)
        {
            SampleLog.JobAbandoned(logger, item.Id);
            throw;
        }

        SampleLog.JobCompleted(logger, item.Id, item.Ms);
    }
}

/// <summary>The SignalR hub at <c>/hub</c>.</summary>
internal sealed class EchoHub : Hub
{
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "Hub methods are instance methods.")]
    public string Echo(string message) => message;
}

/// <summary>The streaming endpoints: a WebSocket echo and a server-sent event stream.</summary>
internal static class LongLivedEndpoints
{
    private static readonly byte[] ServerSentEventRetry = "retry: 1000\n\n"u8.ToArray();

    /// <summary>
    /// <c>GET /ws</c>: echoes text messages until the client closes, or until the drain starts, when it closes with
    /// 1001 (Going Away) so the client reconnects to another instance.
    /// </summary>
    public static async Task WebSocketEchoAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();

        // One send at a time: the echo and the close on Draining never overlap (a WebSocket allows one of each).
        using var sending = new SemaphoreSlim(1, 1);
        async Task SendAsync(Func<Task> send)
        {
            await sending.WaitAsync(CancellationToken.None);
            try
            {
                if (socket.State == WebSocketState.Open)
                {
                    await send();
                }
            }
            finally
            {
                sending.Release();
            }
        }

        // The receive loop below sees the client's answering close frame and ends the request.
        var closing = Task.CompletedTask;
        using var closeOnDrain = context.GetDrainingToken().Register(() => closing = SendAsync(
            () => socket.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, "Server shutting down", CancellationToken.None)));

        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, context.RequestAborted);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    if (socket.State == WebSocketState.CloseReceived)
                    {
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    }

                    break;
                }

                await SendAsync(() => socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, context.RequestAborted).AsTask());
            }

            await closing;
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // The client went away, or the drain deadline aborted the connection.
        }
    }

    /// <summary><c>GET /sse</c>: one event every 500 ms until the client leaves or the drain starts.</summary>
    public static async Task ServerSentEventsAsync(HttpContext context, TimeProvider time)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-store";
        var draining = context.GetDrainingToken();
        await context.Response.Body.WriteAsync(ServerSentEventRetry, context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);

        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500), time);
        for (var id = 1L; ; id++)
        {
            var message = Encoding.UTF8.GetBytes($"id: {id}\ndata: event {id} from {Environment.ProcessId}\n\n");
            await context.Response.Body.WriteAsync(message, context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            try
            {
                if (!await timer.WaitForNextTickAsync(draining))
                {
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                // Draining (or the client left): end the response after a whole event, a normal end of stream.
                return;
            }
        }
    }
}
