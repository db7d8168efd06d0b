using System.Net;
using System.Net.Sockets;

namespace GracefulLifecycle.TestSupport.Contract;

/// <summary>
/// A loopback TCP server that misbehaves at the connection level: it accepts and never answers (a hung registry), or
/// accepts and resets each connection at once (RST, a registry going down). No HTTP is spoken.
/// </summary>
public sealed class TcpFaultServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<Socket> _held = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly bool _reset;
    private readonly Task _loop;
    private int _accepted;

    private TcpFaultServer(bool reset)
    {
        _reset = reset;
        _listener.Start();
        _loop = AcceptAsync();
    }

    /// <summary>Gets the server's root URL, <c>http://127.0.0.1:{port}/</c>.</summary>
    public Uri Url => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");

    /// <summary>Gets how many connections were accepted.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Starts a server that accepts connections and never answers.</summary>
    public static TcpFaultServer Silent() => new(reset: false);

    /// <summary>Starts a server that resets every connection as soon as it is accepted.</summary>
    public static TcpFaultServer Resetting() => new(reset: true);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _loop;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }

        lock (_held)
        {
            foreach (var socket in _held)
            {
                socket.Dispose();
            }
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var socket = await _listener.AcceptSocketAsync(_stop.Token);
            Interlocked.Increment(ref _accepted);
            if (_reset)
            {
                // Linger 0: close sends RST instead of FIN, as a crashing server's kernel does.
                socket.LingerState = new LingerOption(true, 0);
                socket.Close();
            }
            else
            {
                lock (_held)
                {
                    _held.Add(socket);
                }
            }
        }
    }
}
