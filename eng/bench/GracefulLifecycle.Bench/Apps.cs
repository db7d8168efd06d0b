using System.Globalization;
using System.Net;
using System.Net.Sockets;
using GracefulLifecycle.Drill;

namespace GracefulLifecycle.Bench;

/// <summary>The two apps measured, side by side: the sample with the library and the drill's baseline without it.</summary>
internal static class Apps
{
    public static string Sample => Path.Combine(AppContext.BaseDirectory, "GracefulLifecycle.Sample.dll");

    public static string Baseline => Path.Combine(AppContext.BaseDirectory, "GracefulLifecycle.Drill.Baseline.dll");

    /// <summary>The settings the drill gives its replicas, with the given shutdown timings.</summary>
    public static Dictionary<string, string> Settings(TimeSpan shutdownDelay, TimeSpan drainTimeout, TimeSpan gracePeriod) => new()
    {
        ["Sample__PreloadDuration"] = "00:00:00.500",
        ["GracefulLifecycle__ShutdownDelay"] = shutdownDelay.ToString("c", CultureInfo.InvariantCulture),
        ["GracefulLifecycle__DrainTimeout"] = drainTimeout.ToString("c", CultureInfo.InvariantCulture),
        ["GracefulLifecycle__TerminationGracePeriod"] = gracePeriod.ToString("c", CultureInfo.InvariantCulture),
    };

    /// <summary>Starts an app on a free loopback port and waits until its readiness endpoint answers 200.</summary>
    public static async Task<Replica> StartReadyAsync(string appDll, IReadOnlyDictionary<string, string> settings, string? cpus = null)
    {
        var replica = Replica.Start(appDll, FreePort(), settings, cpus);
        try
        {
            await replica.WaitReadyAsync(TimeSpan.FromSeconds(60));
            return replica;
        }
        catch
        {
            await replica.DisposeAsync();
            throw;
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
