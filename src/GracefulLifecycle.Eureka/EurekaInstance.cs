using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace GracefulLifecycle.Eureka;

/// <summary>
/// What is registered: Eureka's <c>InstanceInfo</c>, composed when registering (the listening port is known only
/// then) and kept for the heartbeats and the cancel, which must name the same application, id and
/// <c>lastDirtyTimestamp</c>.
/// </summary>
internal sealed record EurekaInstance
{
    public const string DataCenterInfoClass = "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo";
    public const string DataCenterName = "MyOwn";

    /// <summary>Gets the application name, upper-case as Eureka stores it.</summary>
    public required string App { get; init; }

    public required string InstanceId { get; init; }

    public required string HostName { get; init; }

    public required string IpAddress { get; init; }

    /// <summary>Gets the HTTP port, or <see langword="null"/> when only the secure port is registered.</summary>
    public required int? Port { get; init; }

    public required int? SecurePort { get; init; }

    public required string VipAddress { get; init; }

    public required string SecureVipAddress { get; init; }

    public required int RenewalIntervalInSeconds { get; init; }

    public required int DurationInSeconds { get; init; }

    public required IReadOnlyDictionary<string, string> Metadata { get; init; }

    public required string HealthCheckPath { get; init; }

    public required string StatusPagePath { get; init; }

    /// <summary>Gets the time of the registration in milliseconds since the epoch, sent back with every heartbeat.</summary>
    public required long LastDirtyTimestamp { get; init; }

    /// <summary>Gets the port named in the instance id and the URLs: the HTTP port, else the secure one.</summary>
    public int MainPort => Port ?? SecurePort ?? 0;

    /// <summary>Writes the registration body, <c>{"instance":{…}}</c>.</summary>
    public byte[] ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject("instance");
            json.WriteString("instanceId", InstanceId);
            json.WriteString("hostName", HostName);
            json.WriteString("app", App);
            json.WriteString("ipAddr", IpAddress);
            json.WriteString("status", "UP");
            json.WriteString("overriddenStatus", "UNKNOWN");
            WritePort(json, "port", Port ?? 0, Port is not null);
            WritePort(json, "securePort", SecurePort ?? 443, SecurePort is not null);
            json.WriteNumber("countryId", 1);

            json.WriteStartObject("dataCenterInfo");
            json.WriteString("@class", DataCenterInfoClass);
            json.WriteString("name", DataCenterName);
            json.WriteEndObject();

            json.WriteStartObject("leaseInfo");
            json.WriteNumber("renewalIntervalInSecs", RenewalIntervalInSeconds);
            json.WriteNumber("durationInSecs", DurationInSeconds);
            json.WriteEndObject();

            json.WriteStartObject("metadata");
            foreach (var (key, value) in Metadata)
            {
                json.WriteString(key, value);
            }

            json.WriteEndObject();

            var scheme = Port is null ? Uri.UriSchemeHttps : Uri.UriSchemeHttp;
            var host = HostForUrl(HostName);
            var root = $"{scheme}://{host}:{MainPort.ToString(CultureInfo.InvariantCulture)}";
            json.WriteString("homePageUrl", root + "/");
            json.WriteString("statusPageUrl", root + StatusPagePath);
            json.WriteString("healthCheckUrl", root + HealthCheckPath);
            if (SecurePort is { } securePort)
            {
                json.WriteString("secureHealthCheckUrl", $"https://{host}:{securePort.ToString(CultureInfo.InvariantCulture)}{HealthCheckPath}");
            }

            json.WriteString("vipAddress", VipAddress);
            json.WriteString("secureVipAddress", SecureVipAddress);

            // Eureka itself writes the timestamps as strings; its readers take either form.
            var timestamp = LastDirtyTimestamp.ToString(CultureInfo.InvariantCulture);
            json.WriteString("lastUpdatedTimestamp", timestamp);
            json.WriteString("lastDirtyTimestamp", timestamp);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// The host as it stands in a URL: an IPv6 literal (the host name when the IP address is preferred) in brackets,
    /// its zone's '%' escaped (RFC 3986 §3.2.2, RFC 6874); <c>hostName</c> and <c>ipAddr</c> stay bare, as Eureka stores them.
    /// </summary>
    private static string HostForUrl(string host) =>
        !host.StartsWith('[') && IPAddress.TryParse(host, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6
            ? "[" + host.Replace("%", "%25", StringComparison.Ordinal) + "]"
            : host;

    private static void WritePort(Utf8JsonWriter json, string name, int port, bool enabled)
    {
        json.WriteStartObject(name);
        json.WriteNumber("$", port);
        json.WriteString("@enabled", enabled ? "true" : "false");
        json.WriteEndObject();
    }
}
