using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;

namespace GracefulLifecycle.Draining;

/// <summary>
/// Every connection the server holds, from accept to close, whether or not a request of it ever reached the
/// application. A client that never finishes its request headers (one byte a second), trickles a body the application
/// does not read, or opens a connection and waits, is invisible to the middleware, and Kestrel's stop waits for it
/// until the host's own shutdown timeout, which is counted from the end of the delay: one such client would hold the
/// process past the budget. At the drain deadline every connection still open is aborted, as the requests in flight are.
/// </summary>
internal sealed class ConnectionTracker
{
    private readonly ConcurrentDictionary<ConnectionContext, byte> _open = new();
    private int _aborted;

    /// <summary>Gets how many connections are open now.</summary>
    public int Count => _open.Count;

    /// <summary>The connection middleware, first on every endpoint (see <see cref="ConfigureKestrelConnections"/>).</summary>
    public ConnectionDelegate Track(ConnectionDelegate next) => connection => TrackAsync(next, connection);

    /// <summary>Aborts every connection still open, and any accepted afterwards.</summary>
    /// <returns>How many connections were open.</returns>
    public int AbortAll()
    {
        Volatile.Write(ref _aborted, 1);
        var count = 0;
        foreach (var connection in _open.Keys)
        {
            Abort(connection);
            count++;
        }

        return count;
    }

    private static void Abort(ConnectionContext connection) =>
        connection.Abort(new ConnectionAbortedException("The drain deadline was reached: the connection is aborted."));

    private async Task TrackAsync(ConnectionDelegate next, ConnectionContext connection)
    {
        _open.TryAdd(connection, 0);

        // Accepted after the deadline (the server unbinds its listeners only when its own stop comes): no time is left.
        if (Volatile.Read(ref _aborted) != 0)
        {
            Abort(connection);
        }

        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            _open.TryRemove(connection, out _);
        }
    }
}
