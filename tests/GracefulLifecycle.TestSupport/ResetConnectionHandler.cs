using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.TestSupport;

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

    /// <summary>
    /// Puts a new handler in front of the named client's handler. Its lifetime is infinite: the factory would otherwise
    /// rebuild the chain after two real minutes, and a handler instance cannot be used in two chains.
    /// </summary>
    /// <returns>The handler, to read <see cref="Resets"/> from.</returns>
    public static ResetConnectionHandler AddTo(IServiceCollection services, string httpClientName, Uri resetting)
    {
        var handler = new ResetConnectionHandler(resetting);
        services.AddHttpClient(httpClientName).AddHttpMessageHandler(() => handler).SetHandlerLifetime(Timeout.InfiniteTimeSpan);
        return handler;
    }

    /// <inheritdoc />
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.RequestUri is { } uri && uri.Host == resetting.Host && uri.Port == resetting.Port)
        {
            Interlocked.Increment(ref _resets);
            return Task.FromException<HttpResponseMessage>(new SocketException((int)SocketError.NotConnected));
        }

        return base.SendAsync(request, cancellationToken);
    }
}
