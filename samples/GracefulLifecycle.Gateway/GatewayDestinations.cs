using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Health;

namespace GracefulLifecycle.Gateway;

/// <summary>The gateway's clusters and their destinations, with YARP's view of each: what it routes to now.</summary>
internal static class GatewayDestinations
{
    public static IResult Describe(IProxyStateLookup proxy) => Results.Json(proxy.GetClusters().Select(cluster => new
    {
        Cluster = cluster.ClusterId,
        Destinations = cluster.DestinationsState.AllDestinations.Select(destination => new
        {
            Id = destination.DestinationId,
            destination.Model.Config.Address,
            Active = destination.Health.Active.ToString(),
            Passive = destination.Health.Passive.ToString(),

            // Unknown counts as healthy (YARP's default availability policy): a new instance is routed to at once,
            // as it registered only once ready.
            Available = cluster.DestinationsState.AvailableDestinations.Contains(destination),
        }),
    }));
}
