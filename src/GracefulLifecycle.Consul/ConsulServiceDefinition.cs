using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace GracefulLifecycle.Consul;

/// <summary>
/// The service as registered with <c>PUT /v1/agent/service/register</c>, every default resolved: ID, name,
/// address, port, tags, metadata and two HTTP checks.
/// </summary>
/// <remarks>
/// The readiness check takes the instance out of Consul's passing list whenever readiness fails (leaving, waiting
/// for another registry's consumers, a dependency down) and carries no <c>DeregisterCriticalServiceAfter</c>, so
/// Consul's reaper never removes a live instance for it. The liveness check fails only when the process does not
/// answer, and carries <c>DeregisterCriticalServiceAfter</c>: the reaper then removes an instance that died without
/// deregistering (hashicorp/consul agent/agent.go, <c>reapServicesInternal</c>, reads each check's own timeout).
/// </remarks>
internal sealed class ConsulServiceDefinition
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    public required string Address { get; init; }

    public required int Port { get; init; }

    public required IReadOnlyList<string> Tags { get; init; }

    public required IReadOnlyDictionary<string, string> Meta { get; init; }

    public required string CheckUrl { get; init; }

    public required string LivenessCheckUrl { get; init; }

    public required TimeSpan CheckInterval { get; init; }

    public required TimeSpan CheckTimeout { get; init; }

    public required TimeSpan DeregisterCriticalServiceAfter { get; init; }

    /// <summary>Resolves the options' defaults against what the instance knows about itself.</summary>
    /// <param name="options">The options.</param>
    /// <param name="applicationName">The application name, the default service name.</param>
    /// <param name="listeningPort">The HTTP port the server listens on, if known.</param>
    /// <param name="hostName">The host name, part of the default service ID.</param>
    /// <param name="ipAddress">The instance's IP address, the default service address.</param>
    /// <param name="readinessPath">The path of the readiness endpoint, the default readiness check target.</param>
    /// <param name="livenessPath">The path of the liveness endpoint, the default liveness check target.</param>
    public static ConsulServiceDefinition Create(
        ConsulOptions options, string? applicationName, int? listeningPort, string hostName, string ipAddress, string readinessPath, string livenessPath)
    {
        var name = options.ServiceName ?? applicationName;
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new InvalidOperationException($"The application has no name; set {ConsulOptions.SectionName}:{nameof(options.ServiceName)}.");
        }

        var port = options.Port ?? listeningPort ?? throw new InvalidOperationException(
            $"The server does not listen on an http address, so the port to register is unknown; set {ConsulOptions.SectionName}:{nameof(options.Port)}.");
        var address = options.ServiceAddress ?? ipAddress;

        return new ConsulServiceDefinition
        {
            Id = options.ServiceId ?? $"{name}-{hostName}-{port}",
            Name = name,
            Address = address,
            Port = port,
            Tags = options.Tags.Distinct(StringComparer.Ordinal).ToArray(),
            Meta = new Dictionary<string, string>(options.Metadata, StringComparer.Ordinal),
            CheckUrl = options.CheckUrl ?? $"http://{HostForUrl(address)}:{port}{readinessPath}",
            LivenessCheckUrl = options.LivenessCheckUrl ?? $"http://{HostForUrl(address)}:{port}{livenessPath}",
            CheckInterval = options.CheckInterval,
            CheckTimeout = options.CheckTimeout,
            DeregisterCriticalServiceAfter = options.DeregisterCriticalServiceAfter,
        };
    }

    /// <summary>Writes the JSON body of the register call; durations as Go duration strings.</summary>
    public byte[] ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString(Wire.ID, Id);
            json.WriteString(Wire.Name, Name);
            json.WriteStartArray(Wire.Tags);
            foreach (var tag in Tags)
            {
                json.WriteStringValue(tag);
            }

            json.WriteEndArray();
            json.WriteString(Wire.Address, Address);
            json.WriteNumber(Wire.Port, Port);
            json.WriteStartObject(Wire.Meta);
            foreach (var (key, value) in Meta)
            {
                json.WriteString(key, value);
            }

            json.WriteEndObject();
            json.WriteStartArray(Wire.Checks);
            WriteCheck(json, $"Service '{Name}' readiness", CheckUrl, deregisterCriticalServiceAfter: null);
            WriteCheck(json, $"Service '{Name}' liveness", LivenessCheckUrl, DeregisterCriticalServiceAfter);
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private void WriteCheck(Utf8JsonWriter json, string name, string url, TimeSpan? deregisterCriticalServiceAfter)
    {
        json.WriteStartObject();
        json.WriteString(Wire.Name, name);
        json.WriteString(Wire.HTTP, url);
        json.WriteString(Wire.Method, "GET");
        json.WriteString(Wire.Interval, GoDuration.Format(CheckInterval));
        json.WriteString(Wire.Timeout, GoDuration.Format(CheckTimeout));

        // Zero: Consul's own meaning, never removed (agent/agent.go addCheck only sets a reap timeout above zero).
        if (deregisterCriticalServiceAfter is { } after && after > TimeSpan.Zero)
        {
            json.WriteString(Wire.DeregisterCriticalServiceAfter, GoDuration.Format(after));
        }

        json.WriteEndObject();
    }

    private static string HostForUrl(string address) =>
        IPAddress.TryParse(address, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6 && !address.StartsWith('[')
            ? $"[{address}]"
            : address;

    /// <summary>Field names of Consul's service definition (its wire format, not ours).</summary>
    private static class Wire
    {
        public const string ID = "ID";
        public const string Name = "Name";
        public const string Tags = "Tags";
        public const string Address = "Address";
        public const string Port = "Port";
        public const string Meta = "Meta";
        public const string Checks = "Checks";
        public const string HTTP = "HTTP";
        public const string Method = "Method";
        public const string Interval = "Interval";
        public const string Timeout = "Timeout";
        public const string DeregisterCriticalServiceAfter = "DeregisterCriticalServiceAfter";
    }
}
