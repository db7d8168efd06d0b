using System.Text.Json;

namespace GracefulLifecycle.Drill.Consumer;

/// <summary>
/// Spring Cloud Consul's <c>ConsulDiscoveryClient</c>: each <c>getInstances</c> asks the agent
/// <c>GET /v1/health/service/{name}</c>, with <c>passing</c> only when <c>spring.cloud.consul.discovery.query-passing</c>
/// is true, which it is not by default (<c>ConsulDiscoveryProperties.queryPassing = false</c>): an instance whose
/// check is critical is still listed, until it is deregistered. It keeps no copy of its own; the load balancer's cache
/// over it is what holds a stale list.
/// </summary>
internal sealed class ConsulDiscoveryClient(HttpClient client, Uri agent, string service) : IDiscoveryClient
{
    public async Task<IReadOnlyList<Uri>> GetInstancesAsync(CancellationToken cancellationToken)
    {
        using var response = await client.GetAsync(new Uri(agent, $"v1/health/service/{Uri.EscapeDataString(service)}"), cancellationToken);
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        var found = new List<Uri>();
        foreach (var entry in json.RootElement.EnumerateArray())
        {
            // Spring Cloud Consul calls the service's address, or the node's when the service has none.
            var node = entry.GetProperty("Node");
            var instance = entry.GetProperty("Service");
            var address = instance.GetProperty("Address").GetString() is { Length: > 0 } a ? a : node.GetProperty("Address").GetString();
            found.Add(new Uri($"http://{address}:{instance.GetProperty("Port").GetInt32()}/"));
        }

        return found;
    }
}
