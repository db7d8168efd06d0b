using System.Net;
using System.Net.Sockets;

namespace GracefulLifecycle.Eureka.Tests.Infrastructure;

internal static class Ports
{
    /// <summary>A loopback port nothing listens on (the OS picked it free and it was released): connections are refused.</summary>
    public static int Closed()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
