using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;

namespace GracefulLifecycle.Endpoints;

/// <summary>
/// The addresses of the connection itself, as the transport accepted it. The forwarded-headers middleware rewrites
/// <c>HttpContext.Connection</c> (the request-level <see cref="Microsoft.AspNetCore.Http.Features.IHttpConnectionFeature"/>,
/// which Kestrel's request object itself implements) from <c>X-Forwarded-For</c>, which anyone can send. It never
/// touches the connection-level features that request features fall back to: Kestrel's socket transport exposes the
/// accepted <see cref="System.Net.Sockets.Socket"/> (<see cref="IConnectionSocketFeature"/>; in .NET 10 it does not
/// expose <see cref="IConnectionEndPointFeature"/>), other transports the endpoints. An access decision reads only these.
/// </summary>
internal readonly record struct TransportAddresses(IPAddress Remote, IPAddress Local, int LocalPort)
{
    /// <summary>Reads the transport's endpoints; <see langword="false"/> when the server exposes none (TestServer, some hosts).</summary>
    public static bool TryRead(HttpContext context, out TransportAddresses addresses)
    {
        if (context.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket)
        {
            try
            {
                if (socket is { RemoteEndPoint: IPEndPoint socketRemote, LocalEndPoint: IPEndPoint socketLocal })
                {
                    addresses = new(Unmap(socketRemote.Address), Unmap(socketLocal.Address), socketLocal.Port);
                    return true;
                }
            }
            catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
            {
                // The connection closed under the request: nothing to decide on, so refuse.
                addresses = default;
                return false;
            }
        }

        if (context.Features.Get<IConnectionEndPointFeature>() is { RemoteEndPoint: IPEndPoint remote, LocalEndPoint: IPEndPoint local })
        {
            addresses = new(Unmap(remote.Address), Unmap(local.Address), local.Port);
            return true;
        }

        addresses = default;
        return false;
    }

    /// <summary>Gets a value indicating whether both ends are loopback: the call really comes from inside this host (or pod).</summary>
    public bool IsLoopback => IPAddress.IsLoopback(Remote) && IPAddress.IsLoopback(Local);

    private static IPAddress Unmap(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
