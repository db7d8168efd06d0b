using System.Text.Json;

namespace GracefulLifecycle.TestSupport.Consul;

/// <summary>One HTTP API call the fake agent received, recorded on arrival.</summary>
/// <remarks>The path is the request's, such as <c>/v1/agent/service/register</c>.</remarks>
public sealed class AgentCall(int sequence, string method, string path, string query, string body, long arrivedAt, string? token)
    : RegistryCall(sequence, method, path, query, body, arrivedAt)
{
    /// <summary>Gets the <c>X-Consul-Token</c> header (or <c>?token=</c>), if sent.</summary>
    public string? Token { get; } = token;

    public bool IsRegister => Method == "PUT" && Path == "/v1/agent/service/register";

    public bool IsDeregister => Method == "PUT" && Path.StartsWith("/v1/agent/service/deregister/", StringComparison.Ordinal);

    public bool IsServiceRead => Method == "GET" && Path.StartsWith("/v1/agent/service/", StringComparison.Ordinal);

    /// <summary>Gets the body parsed as JSON.</summary>
    public JsonElement Json()
    {
        using var document = JsonDocument.Parse(Body);
        return document.RootElement.Clone();
    }
}
