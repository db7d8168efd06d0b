using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace GracefulLifecycle.Drill;

/// <summary>
/// Hands out free loopback ports below the kernel's ephemeral range. A port taken from a port-0 bind is ephemeral:
/// once released, the kernel may give it to any outgoing connection (HAProxy's checks, wrk, an HttpClient) or to
/// another process's port-0 bind before the replica meant for it binds, and a slot can wait minutes for its replica.
/// Ports outside that range are only ever taken by an explicit bind.
/// </summary>
internal static class LoopbackPorts
{
    private const int Lowest = 20000;
    private static readonly int End = EphemeralRangeStart();
    private static readonly HashSet<int> HandedOut = [];

    /// <summary>Returns a port that is free now, outside the ephemeral range, and not handed out before by this process.</summary>
    public static int Next()
    {
        lock (HandedOut)
        {
            for (var attempt = 0; attempt < 1000; attempt++)
            {
                var port = Random.Shared.Next(Lowest, End);
                if (!HandedOut.Contains(port) && IsFree(port))
                {
                    HandedOut.Add(port);
                    return port;
                }
            }
        }

        throw new InvalidOperationException($"No free loopback port between {Lowest} and {End}.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int EphemeralRangeStart()
    {
        // Linux's default when the file cannot be read.
        const int Default = 32768;
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            return int.TryParse(range[0], NumberStyles.None, CultureInfo.InvariantCulture, out var start) && start > Lowest + 1000 ? start : Default;
        }
        catch (IOException)
        {
            return Default;
        }
        catch (UnauthorizedAccessException)
        {
            return Default;
        }
    }
}
