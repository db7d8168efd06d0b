using System.Net.Sockets;

namespace GracefulLifecycle.Testing;

/// <summary>
/// Fails every request to one host and port with the bare <see cref="SocketException"/> (<c>NotConnected</c>) that
/// <c>SocketsHttpHandler</c> lets escape, unwrapped, when the peer resets a new connection before the handler has read
/// its remote end point (a server that closes its listener with connections still queued). Requests to anywhere else
/// pass through.
/// </summary>
public sealed class ResetConnectionHandler(Uri resetting) : DelegatingHandler
{
    private int _resets;

    /// <summary>Gets how many requests were failed.</summary>
    public int Resets => Volatile.Read(ref _resets);

    /// <inheritdoc />
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.RequestUri is { } uri && uri.Host == resetting.Host && uri.Port == resetting.Port)
        {
            Interlocked.Increment(ref _resets);
            throw new SocketException((int)SocketError.NotConnected);
        }

        return base.SendAsync(request, cancellationToken);
    }
}
