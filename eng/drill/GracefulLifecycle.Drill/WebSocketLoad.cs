using System.Collections.Concurrent;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;

namespace GracefulLifecycle.Drill;

/// <summary>
/// WebSocket clients on <c>/ws</c> as a chat or a live feed uses them: each sends a numbered text message every
/// 100 ms and expects it echoed. On any close or error a client reconnects at once, through the balancer as a new
/// client would, and re-sends every message not yet echoed. A message is lost only if it is still unechoed when the
/// run ends, so the count that matters to a user is how each connection ended: with a close frame (1000, 1001) the
/// client knows the server went away on purpose; without one (1006) it saw the connection break.
/// </summary>
internal sealed class WebSocketLoad(int clients) : IDrillLoad
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(100);

    /// <summary>How long a connect may take, HAProxy included, before it counts as failed and is tried again.</summary>
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The pause after a failed connect, so 50 clients do not spin on a replica that refuses them.</summary>
    private static readonly TimeSpan ConnectRetryDelay = TimeSpan.FromMilliseconds(50);

    /// <summary>How long the clients get, once sending has stopped, for their last messages to be echoed.</summary>
    private static readonly TimeSpan EchoGrace = TimeSpan.FromSeconds(10);

    private readonly CancellationTokenSource _stopSending = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<EchoClient> _clients = [];
    private readonly List<Task> _running = [];
    private readonly Counters _counters = new();
    private bool _disposed;

    public async Task StartAsync(Uri target)
    {
        var uri = new UriBuilder(target) { Scheme = "ws", Path = "/ws" }.Uri;
        for (var i = 0; i < clients; i++)
        {
            var client = new EchoClient(i, uri, _counters);
            _clients.Add(client);
            _running.Add(Task.Run(() => client.RunAsync(_stopSending.Token, _stop.Token)));
        }

        // The load runs once every client has its connection, so the rollout starts with all of them open.
        try
        {
            await Task.WhenAll(_clients.Select(c => c.FirstConnection.Task)).WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            throw new InvalidOperationException(
                $"Only {_clients.Count(c => c.FirstConnection.Task.IsCompleted)} of {clients} WebSocket clients connected to {uri} within 30 s "
                + $"({Volatile.Read(ref _counters.ConnectErrors)} failed connects).");
        }
    }

    public async Task StopAsync()
    {
        // No new messages; each client closes once everything it sent is echoed, reconnecting first if it must.
        await _stopSending.CancelAsync();
        try
        {
            await Task.WhenAll(_running).WaitAsync(EchoGrace);
        }
        catch (TimeoutException)
        {
            // What is still unechoed now is lost; the stop aborts the connections left.
        }

        await _stop.CancelAsync();
        await Task.WhenAll(_running);
    }

    /// <summary>The counts so far; final once <see cref="StopAsync"/> has returned.</summary>
    public WebSocketCounts Counts() => new(
        clients,
        Volatile.Read(ref _counters.Connections),
        Volatile.Read(ref _counters.ConnectErrors),
        Volatile.Read(ref _counters.Sent),
        Volatile.Read(ref _counters.Resent),
        Volatile.Read(ref _counters.Echoed),
        Volatile.Read(ref _counters.Duplicates),
        _clients.Sum(c => c.Unacknowledged),
        Volatile.Read(ref _counters.Normal),
        Volatile.Read(ref _counters.GoingAway),
        Volatile.Read(ref _counters.OtherStatus),
        Volatile.Read(ref _counters.Abnormal),
        new SortedDictionary<string, long>(_counters.Kinds, StringComparer.Ordinal),
        [.. _counters.Ends]);

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _stopSending.CancelAsync();
        await _stop.CancelAsync();
        await Task.WhenAll(_running);
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        _stopSending.Dispose();
        _stop.Dispose();
    }

    /// <summary>Shared by every client; fields for <see cref="Interlocked"/>.</summary>
    private sealed class Counters
    {
#pragma warning disable SA1401, CA1051 // Fields, so that Interlocked can update them.
        public long Connections;
        public long ConnectErrors;
        public long Sent;
        public long Resent;
        public long Echoed;
        public long Duplicates;
        public long Normal;
        public long GoingAway;
        public long OtherStatus;
        public long Abnormal;
#pragma warning restore SA1401, CA1051

        /// <summary>Gets every way a connection ended or failed, with a count: close statuses and error codes.</summary>
        public ConcurrentDictionary<string, long> Kinds { get; } = new(StringComparer.Ordinal);

        /// <summary>Gets when each connection the rollout ended was seen ending, as <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/> values.</summary>
        public ConcurrentQueue<long> Ends { get; } = new();

        public void Count(string kind) => Kinds.AddOrUpdate(kind, 1, (_, n) => n + 1);
    }

    /// <summary>One client: its connection of the moment, its message numbers, and what is not echoed yet.</summary>
    private sealed class EchoClient(int id, Uri uri, Counters counters) : IDisposable
    {
        private readonly Lock _gate = new();
        private readonly SortedDictionary<long, string> _unacknowledged = [];
        private readonly SemaphoreSlim _acknowledged = new(0);
        private long _next;

        public void Dispose() => _acknowledged.Dispose();

        public TaskCompletionSource FirstConnection { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Unacknowledged
        {
            get
            {
                lock (_gate)
                {
                    return _unacknowledged.Count;
                }
            }
        }

        /// <summary>Connects, and reconnects after every close or error, until sending has stopped and every message is echoed, or the stop.</summary>
        public async Task RunAsync(CancellationToken stopSending, CancellationToken stop)
        {
            while (!stop.IsCancellationRequested && (!stopSending.IsCancellationRequested || Unacknowledged > 0))
            {
                using var socket = new ClientWebSocket();

                // No pings: a message goes every 100 ms, and the count must come from the connection's real end.
                socket.Options.KeepAliveInterval = TimeSpan.Zero;
                try
                {
                    using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
                    connectTimeout.CancelAfter(ConnectTimeout);
                    await socket.ConnectAsync(uri, connectTimeout.Token);
                }
                catch (Exception ex) when (ex is WebSocketException or HttpRequestException or OperationCanceledException)
                {
                    if (stop.IsCancellationRequested)
                    {
                        return;
                    }

                    // HAProxy closes a connection it cannot pass to a replica (one that stopped listening before its
                    // check failed): no data was on it, so it is a failed connect, not a closed connection.
                    Interlocked.Increment(ref counters.ConnectErrors);
                    counters.Count("connect failed");
                    try
                    {
                        await Task.Delay(ConnectRetryDelay, stop);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }

                    continue;
                }

                Interlocked.Increment(ref counters.Connections);
                FirstConnection.TrySetResult();
                await RunConnectionAsync(socket, stopSending, stop);
            }
        }

        private async Task RunConnectionAsync(ClientWebSocket socket, CancellationToken stopSending, CancellationToken stop)
        {
            // The end of the run aborts a connection still open, so no receive waits forever.
            using var abort = stop.Register(socket.Abort);
            using var connectionEnded = new CancellationTokenSource();
            var closing = new ClosingFlag();
            var sender = SendAsync(socket, closing, stopSending, connectionEnded.Token);
            var end = await ReceiveAsync(socket);
            var endedAt = System.Diagnostics.Stopwatch.GetTimestamp();

            // One send at a time on a WebSocket: the sender finishes its message before the close is answered. Its
            // sends take no token, since cancelling a send aborts the whole connection.
            await connectionEnded.CancelAsync();
            await sender;
            if (end.ServerClosed && socket.State == WebSocketState.CloseReceived)
            {
                try
                {
                    // Complete the server's close handshake, echoing its status, as a browser does.
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
                    timeout.CancelAfter(TimeSpan.FromSeconds(2));
                    await socket.CloseOutputAsync(socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, null, timeout.Token);
                }
                catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
                {
                    // The server went before the handshake completed; how it closed is already known.
                }
            }

            if (closing.ByClient || stop.IsCancellationRequested)
            {
                // The client ended it (the run is over): not a close the rollout caused.
                return;
            }

            switch (end.Status)
            {
                case WebSocketCloseStatus.NormalClosure:
                    Interlocked.Increment(ref counters.Normal);
                    break;
                case WebSocketCloseStatus.EndpointUnavailable:
                    Interlocked.Increment(ref counters.GoingAway);
                    break;
                case null:
                    Interlocked.Increment(ref counters.Abnormal);
                    break;
                default:
                    Interlocked.Increment(ref counters.OtherStatus);
                    break;
            }

            counters.Count(end.Kind);
            counters.Ends.Enqueue(endedAt);
        }

        /// <summary>Re-sends what is unechoed, then a new message every 100 ms until sending stops; then closes once all is echoed.</summary>
        private async Task SendAsync(ClientWebSocket socket, ClosingFlag closing, CancellationToken stopSending, CancellationToken connectionEnded)
        {
            try
            {
                // What the last connection left unechoed goes first, oldest first.
                foreach (var text in Pending())
                {
                    await SendTextAsync(socket, text);
                    Interlocked.Increment(ref counters.Resent);
                }

                using var timer = new PeriodicTimer(Period);
                using var ticking = CancellationTokenSource.CreateLinkedTokenSource(stopSending, connectionEnded);
                while (!ticking.IsCancellationRequested)
                {
                    string text;
                    lock (_gate)
                    {
                        var number = _next++;
                        text = string.Create(CultureInfo.InvariantCulture, $"{id} {number}");
                        _unacknowledged.Add(number, text);
                    }

                    Interlocked.Increment(ref counters.Sent);
                    await SendTextAsync(socket, text);
                    try
                    {
                        await timer.WaitForNextTickAsync(ticking.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        // Sending stopped, or the connection ended: the checks below tell which.
                    }
                }

                if (connectionEnded.IsCancellationRequested)
                {
                    return;
                }

                // The run is ending: close from this side once every message is echoed.
                while (Unacknowledged > 0)
                {
                    await _acknowledged.WaitAsync(connectionEnded);
                }

                closing.ByClient = true;
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
            {
                // The connection broke or ended under the send; the receive side reports how.
            }
        }

        private async Task<ConnectionEnd> ReceiveAsync(ClientWebSocket socket)
        {
            var buffer = new byte[256];
            try
            {
                while (true)
                {
                    var count = 0;
                    ValueWebSocketReceiveResult received;
                    do
                    {
                        received = await socket.ReceiveAsync(buffer.AsMemory(count), CancellationToken.None);
                        count += received.Count;
                    }
                    while (!received.EndOfMessage && count < buffer.Length);

                    if (received.MessageType == WebSocketMessageType.Close)
                    {
                        var status = socket.CloseStatus;
                        return new ConnectionEnd(
                            true,
                            status,
                            status is { } s ? ((int)s).ToString(CultureInfo.InvariantCulture) : "close frame without a status (1005)");
                    }

                    Acknowledge(Encoding.UTF8.GetString(buffer, 0, count));
                }
            }
            catch (WebSocketException ex)
            {
                // No close frame: the connection broke (reset, or closed without the handshake).
                return new ConnectionEnd(false, null, $"1006 ({ex.WebSocketErrorCode})");
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or IOException)
            {
                return new ConnectionEnd(false, null, $"1006 ({ex.GetType().Name})");
            }
        }

        private void Acknowledge(string echo)
        {
            var space = echo.IndexOf(' ', StringComparison.Ordinal);
            if (space < 0 || !long.TryParse(echo.AsSpan(space + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            {
                counters.Count($"unexpected echo '{echo}'");
                return;
            }

            bool first;
            lock (_gate)
            {
                first = _unacknowledged.Remove(number);
            }

            Interlocked.Increment(ref first ? ref counters.Echoed : ref counters.Duplicates);
            _acknowledged.Release();
        }

        private List<string> Pending()
        {
            lock (_gate)
            {
                return [.. _unacknowledged.Values];
            }
        }

        private static ValueTask SendTextAsync(ClientWebSocket socket, string text) =>
            socket.SendAsync(Encoding.UTF8.GetBytes(text).AsMemory(), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
    }

    /// <summary>Set by the sender when it starts the close itself at the end of the run.</summary>
    private sealed class ClosingFlag
    {
        public volatile bool ByClient;
    }

    /// <summary>How a connection ended: a close frame from the server (with its status, if any), or no close frame.</summary>
    private sealed record ConnectionEnd(bool ServerClosed, WebSocketCloseStatus? Status, string Kind);
}

/// <summary>What the WebSocket clients counted through a run.</summary>
/// <param name="Clients">The number of clients.</param>
/// <param name="Connections">Connections opened, the first of each client included.</param>
/// <param name="ConnectErrors">Connects that failed (HAProxy had no replica that answered).</param>
/// <param name="Sent">Messages sent, each counted once however often it was re-sent.</param>
/// <param name="Resent">Re-sends of unechoed messages after a reconnect.</param>
/// <param name="Echoed">Messages echoed, each counted once.</param>
/// <param name="Duplicates">Echoes of a message already echoed.</param>
/// <param name="Lost">Messages never echoed by the end of the run.</param>
/// <param name="Normal">Connections the server closed with 1000.</param>
/// <param name="GoingAway">Connections the server closed with 1001.</param>
/// <param name="OtherStatus">Connections the server closed with another status.</param>
/// <param name="Abnormal">Connections that ended without a close frame (1006) or with a close frame without a status.</param>
/// <param name="Kinds">Every kind of end and failure with its count.</param>
/// <param name="Ends">When each connection the rollout ended was seen ending (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>).</param>
internal sealed record WebSocketCounts(
    int Clients,
    long Connections,
    long ConnectErrors,
    long Sent,
    long Resent,
    long Echoed,
    long Duplicates,
    long Lost,
    long Normal,
    long GoingAway,
    long OtherStatus,
    long Abnormal,
    IReadOnlyDictionary<string, long> Kinds,
    IReadOnlyCollection<long> Ends);
