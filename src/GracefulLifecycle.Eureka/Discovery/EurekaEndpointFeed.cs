using System.Globalization;
using System.Net;
using System.Text.Json;
using GracefulLifecycle.Discovery;
using GracefulLifecycle.Transport;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Eureka;

/// <summary>
/// The <c>UP</c> instances of one Eureka application: read whole with <c>GET apps/{APP}</c> (404: none), then kept
/// current from <c>GET apps/delta</c> every <see cref="EurekaEndpointProviderOptions.RegistryFetchIntervalSeconds"/>,
/// applying each change to the application by its <c>actionType</c> (<c>ADDED</c> and <c>MODIFIED</c> replace the
/// instance, <c>DELETED</c> removes it), as Eureka's own client does (DiscoveryClient <c>updateDelta</c>). The server
/// keeps a change in the delta for 3 minutes (<c>retentionTimeInMSInDeltaQueue</c>): when more than half of that passed
/// since the last delta read (an outage, a stalled process), the application is read whole again instead, as it is at
/// the start of every session. The instance is called at its <c>hostName</c> (Spring Cloud's
/// <c>EurekaServiceInstance.getHost</c>; the registration side writes the IP address there with <c>PreferIpAddress</c>)
/// on its <c>port</c> when enabled, else its <c>securePort</c>.
/// </summary>
internal sealed class EurekaEndpointFeed : EndpointFeed
{
    /// <summary>Half the server's delta retention (DefaultEurekaServerConfig, <c>retentionTimeInMSInDeltaQueue</c>, 3 minutes).</summary>
    internal static readonly TimeSpan DeltaTrusted = TimeSpan.FromSeconds(90);

    private readonly EurekaEndpointProviderOptions _options;
    private readonly RegistryTransport _transport;
    private readonly ILogger _logger;

    public EurekaEndpointFeed(string serviceName, EurekaEndpointProviderOptions options, RegistryTransport transport, ILogger logger, TimeProvider time)
        : base(serviceName, time, new EndpointFeedLog
        {
            Unreachable = (service, reason, retryMs, kept) => Log.ProviderUnreachable(logger, service, reason, retryMs, kept),
            Reconnected = (service, count) => Log.ProviderReconnected(logger, service, count),
            Changed = (service, count) => Log.ProviderChanged(logger, service, count),
        })
    {
        _options = options;
        _transport = transport;
        _logger = logger;
    }

    protected override async Task RunSessionAsync(CancellationToken cancellationToken)
    {
        var instances = await ReadApplicationAsync(cancellationToken).ConfigureAwait(false);
        var lastRead = Time.GetTimestamp();
        Publish(Up(instances));
        var interval = TimeSpan.FromSeconds(_options.RegistryFetchIntervalSeconds);
        while (true)
        {
            await Task.Delay(interval, Time, cancellationToken).ConfigureAwait(false);
            if (Time.GetElapsedTime(lastRead) > DeltaTrusted)
            {
                Log.ProviderFullRead(_logger, ServiceName);
                instances = await ReadApplicationAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await ApplyDeltaAsync(instances, cancellationToken).ConfigureAwait(false);
            }

            lastRead = Time.GetTimestamp();
            Publish(Up(instances));
        }
    }

    private static IEnumerable<EndPoint> Up(Dictionary<string, (string Status, EndPoint? Endpoint)> instances) =>
        instances.Values.Where(i => i.Status == "UP" && i.Endpoint is not null).Select(i => i.Endpoint!);

    private async Task<Dictionary<string, (string Status, EndPoint? Endpoint)>> ReadApplicationAsync(CancellationToken cancellationToken)
    {
        var answer = await _transport.SendAsync(HttpMethod.Get, "apps/" + Uri.EscapeDataString(ServiceName), null, cancellationToken).ConfigureAwait(false);
        var instances = new Dictionary<string, (string, EndPoint?)>(StringComparer.Ordinal);
        if (answer.Status == HttpStatusCode.NotFound)
        {
            // ApplicationResource: an application without instances is not found; that is an answer, not an outage.
            return instances;
        }

        if (!answer.IsSuccess)
        {
            throw _transport.Refused(answer);
        }

        using var document = JsonDocument.Parse(answer.Body);
        if (document.RootElement.TryGetProperty("application", out var application))
        {
            foreach (var instance in Items(application, "instance"))
            {
                Put(instances, instance);
            }
        }

        return instances;
    }

    private async Task ApplyDeltaAsync(Dictionary<string, (string Status, EndPoint? Endpoint)> instances, CancellationToken cancellationToken)
    {
        var answer = await _transport.SendAsync(HttpMethod.Get, "apps/delta", null, cancellationToken).ConfigureAwait(false);
        if (!answer.IsSuccess)
        {
            // A server with eureka.server.disableDelta answers 403: the session ends and the next one reads the application whole.
            throw _transport.Refused(answer);
        }

        using var document = JsonDocument.Parse(answer.Body);
        if (!document.RootElement.TryGetProperty("applications", out var applications))
        {
            return;
        }

        foreach (var application in Items(applications, "application"))
        {
            if (!application.TryGetProperty("name", out var name) || !string.Equals(name.GetString(), ServiceName, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            foreach (var instance in Items(application, "instance"))
            {
                var action = instance.TryGetProperty("actionType", out var a) ? a.GetString() : null;
                if (action == "DELETED")
                {
                    instances.Remove(IdOf(instance));
                }
                else
                {
                    Put(instances, instance);
                }
            }
        }
    }

    /// <summary>Eureka's JSON writes a list of one as the item itself in some versions: both are read.</summary>
    private static JsonElement[] Items(JsonElement parent, string property) =>
        !parent.TryGetProperty(property, out var value) ? []
        : value.ValueKind == JsonValueKind.Array ? value.EnumerateArray().ToArray()
        : value.ValueKind == JsonValueKind.Object ? [value]
        : [];

    private static string IdOf(JsonElement instance) =>
        (instance.TryGetProperty("instanceId", out var id) && id.GetString() is { Length: > 0 } given ? given : null)
        ?? (instance.TryGetProperty("hostName", out var host) ? host.GetString() ?? string.Empty : string.Empty);

    private void Put(Dictionary<string, (string Status, EndPoint? Endpoint)> instances, JsonElement instance)
    {
        var status = instance.TryGetProperty("status", out var s) ? s.GetString() ?? "UNKNOWN" : "UNKNOWN";
        var host = instance.TryGetProperty("hostName", out var h) ? h.GetString() : null;
        var port = Port(instance, "port") ?? Port(instance, "securePort");
        EndPoint? endpoint = null;
        if (string.IsNullOrEmpty(host) || port is null)
        {
            Log.ProviderSkippedInstance(_logger, ServiceName, IdOf(instance));
        }
        else
        {
            endpoint = IPAddress.TryParse(host, out var ip) ? new IPEndPoint(ip, port.Value) : new DnsEndPoint(host, port.Value);
        }

        instances[IdOf(instance)] = (status, endpoint);
    }

    /// <summary>A port as Eureka writes it, <c>{"$": 8080, "@enabled": "true"}</c>; null when not enabled.</summary>
    private static int? Port(JsonElement instance, string name)
    {
        if (!instance.TryGetProperty(name, out var port) || port.ValueKind != JsonValueKind.Object
            || !port.TryGetProperty("@enabled", out var enabled) || !string.Equals(enabled.ToString(), "true", StringComparison.OrdinalIgnoreCase)
            || !port.TryGetProperty("$", out var value))
        {
            return null;
        }

        var number = value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) ? n
            : int.TryParse(value.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : 0;
        return number is >= 1 and <= 65535 ? number : null;
    }
}
