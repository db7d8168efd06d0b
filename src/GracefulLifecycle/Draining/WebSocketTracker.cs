using Microsoft.AspNetCore.Http;

namespace GracefulLifecycle.Draining;

/// <summary>
/// The WebSocket connections open now. During the drain it closes those the application has not closed itself,
/// with 1001 (Going Away), so clients reconnect elsewhere instead of seeing the connection aborted (1006); a
/// connection whose close handshake does not finish soon after (a handler that only sends and never reads the
/// client's answer) is aborted then rather than holding the drain to its deadline.
/// </summary>
internal sealed class WebSocketTracker
{
    /// <summary>How long a client has to answer the library's close frame before its connection is aborted.</summary>
    public static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(2);

    private readonly Dictionary<TrackedWebSocketStream, HttpContext> _open = [];
    private readonly HashSet<TrackedWebSocketStream> _hubs = [];
    private readonly Lock _gate = new();
    private TaskCompletionSource? _hubsClosed;
    private bool _closing;
    private bool _closingHubs;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _open.Count;
            }
        }
    }

    public void Add(TrackedWebSocketStream stream, HttpContext context, bool isHub)
    {
        bool closing;
        lock (_gate)
        {
            _open.Add(stream, context);
            if (isHub)
            {
                _hubs.Add(stream);
            }

            closing = _closing || (isHub && _closingHubs);
        }

        if (closing)
        {
            // Upgraded after the close began: the client is told to go at once.
            stream.RequestClose();
        }
    }

    public void Remove(TrackedWebSocketStream stream)
    {
        TaskCompletionSource? hubsClosed = null;
        lock (_gate)
        {
            _open.Remove(stream);
            if (_hubs.Remove(stream) && _hubs.Count == 0)
            {
                hubsClosed = _hubsClosed;
            }
        }

        hubsClosed?.TrySetResult();
    }

    /// <summary>
    /// Closes the SignalR hub connections with 1001 at once. SignalR drops its connections abruptly when the host
    /// fires <c>ApplicationStopping</c>; closed here first, and waited for, they end with a full close handshake.
    /// </summary>
    /// <returns>A task that completes when no hub connection is left open.</returns>
    public Task CloseHubConnectionsAsync()
    {
        TrackedWebSocketStream[] hubs;
        lock (_gate)
        {
            _closingHubs = true;
            if (_hubs.Count == 0)
            {
                return Task.CompletedTask;
            }

            hubs = [.. _hubs];
            _hubsClosed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        foreach (var stream in hubs)
        {
            stream.RequestClose();
        }

        return _hubsClosed.Task;
    }

    /// <summary>Sends a close frame on every connection whose close handshake has not begun, and on any opened later.</summary>
    /// <returns>How many connections were told to close.</returns>
    public int CloseAll()
    {
        TrackedWebSocketStream[] open;
        lock (_gate)
        {
            _closing = true;
            open = [.. _open.Keys];
        }

        return open.Count(stream => stream.RequestClose());
    }

    /// <summary>Aborts the connections the library closed that are still open: their handshake did not finish in time.</summary>
    /// <returns>How many connections were aborted.</returns>
    public int AbortUnanswered()
    {
        HttpContext[] stuck;
        lock (_gate)
        {
            stuck = [.. _open.Where(o => o.Key.ClosedByServer).Select(o => o.Value)];
        }

        foreach (var context in stuck)
        {
            context.Abort();
        }

        return stuck.Length;
    }
}
