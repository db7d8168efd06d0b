using Microsoft.AspNetCore.Http;

namespace GracefulLifecycle.Draining;

/// <summary>
/// The WebSocket connections open now. During the drain it closes those the application has not closed itself,
/// with 1001 (Going Away), so clients reconnect elsewhere instead of seeing the connection aborted (1006). Every
/// connection whose close frame goes out during the drain, whoever sent it (the library, or the application on
/// <c>Draining</c> as the docs recommend), has <see cref="CloseHandshakeTimeout"/> to finish the handshake: one whose
/// client never answers (or whose handler never reads the answer) is aborted then rather than holding the drain to its
/// deadline.
/// </summary>
internal sealed class WebSocketTracker(TimeProvider time)
{
    /// <summary>How long a client has to answer a close frame sent during the drain before its connection is aborted.</summary>
    public static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(2);

    private readonly Dictionary<TrackedWebSocketStream, HttpContext> _open = [];
    private readonly Dictionary<TrackedWebSocketStream, ITimer> _handshakeDeadlines = [];
    private readonly HashSet<TrackedWebSocketStream> _hubs = [];
    private readonly Lock _gate = new();
    private TaskCompletionSource? _hubsClosed;
    private bool _draining;
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

    /// <summary>Wraps an upgraded connection's stream, told when its first close frame goes out.</summary>
    public TrackedWebSocketStream Wrap(Stream stream) => new(stream, OnCloseSent);

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
        ITimer? deadline;
        lock (_gate)
        {
            _open.Remove(stream);
            _handshakeDeadlines.Remove(stream, out deadline);
            if (_hubs.Remove(stream) && _hubs.Count == 0)
            {
                hubsClosed = _hubsClosed;
            }
        }

        deadline?.Dispose();
        hubsClosed?.TrySetResult();
    }

    /// <summary>
    /// The drain has begun: from now on every close frame sent starts the handshake bound, and the connections whose
    /// close frame went out before (the application closed them on <c>Leaving</c>) get it from now.
    /// </summary>
    public void BeginDrain()
    {
        TrackedWebSocketStream[] closed;
        lock (_gate)
        {
            _draining = true;
            closed = [.. _open.Keys.Where(stream => stream.CloseSent)];
        }

        foreach (var stream in closed)
        {
            BoundHandshake(stream);
        }
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

    private void OnCloseSent(TrackedWebSocketStream stream)
    {
        bool draining;
        lock (_gate)
        {
            draining = _draining;
        }

        if (draining)
        {
            BoundHandshake(stream);
        }
    }

    /// <summary>Aborts the connection <see cref="CloseHandshakeTimeout"/> from now unless its handshake ends first; once per connection.</summary>
    private void BoundHandshake(TrackedWebSocketStream stream)
    {
        lock (_gate)
        {
            if (!_open.ContainsKey(stream) || _handshakeDeadlines.ContainsKey(stream))
            {
                return;
            }

            _handshakeDeadlines.Add(stream, time.CreateTimer(
                static state =>
                {
                    var (tracker, stream) = ((WebSocketTracker, TrackedWebSocketStream))state!;
                    tracker.AbortIfOpen(stream);
                },
                (this, stream),
                CloseHandshakeTimeout,
                Timeout.InfiniteTimeSpan));
        }
    }

    private void AbortIfOpen(TrackedWebSocketStream stream)
    {
        HttpContext? context;
        lock (_gate)
        {
            _open.TryGetValue(stream, out context);
        }

        // The request is still running, so its context is still valid: Remove comes when the request ends.
        context?.Abort();
    }
}
