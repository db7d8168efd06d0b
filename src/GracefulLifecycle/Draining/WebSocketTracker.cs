namespace GracefulLifecycle.Draining;

/// <summary>
/// The WebSocket connections open now. During the drain it closes those the application has not closed itself,
/// with 1001 (Going Away), so clients reconnect elsewhere instead of seeing the connection aborted (1006).
/// </summary>
internal sealed class WebSocketTracker
{
    private readonly HashSet<TrackedWebSocketStream> _open = [];
    private bool _closing;

    public int Count
    {
        get
        {
            lock (_open)
            {
                return _open.Count;
            }
        }
    }

    public void Add(TrackedWebSocketStream stream)
    {
        bool closing;
        lock (_open)
        {
            _open.Add(stream);
            closing = _closing;
        }

        if (closing)
        {
            // Upgraded after the close began: the client is told to go at once.
            stream.RequestClose();
        }
    }

    public void Remove(TrackedWebSocketStream stream)
    {
        lock (_open)
        {
            _open.Remove(stream);
        }
    }

    /// <summary>Sends a close frame on every connection whose close handshake has not begun, and on any opened later.</summary>
    /// <returns>How many connections were told to close.</returns>
    public int CloseAll()
    {
        TrackedWebSocketStream[] open;
        lock (_open)
        {
            _closing = true;
            open = [.. _open];
        }

        var closed = 0;
        foreach (var stream in open)
        {
            if (stream.RequestClose())
            {
                closed++;
            }
        }

        return closed;
    }
}
