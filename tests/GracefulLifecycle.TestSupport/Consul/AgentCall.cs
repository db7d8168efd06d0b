using System.Text.Json;

namespace GracefulLifecycle.TestSupport.Consul;

/// <summary>One HTTP API call the fake agent received, recorded on arrival.</summary>
public sealed class AgentCall
{
    public required int Sequence { get; init; }

    public required string Method { get; init; }

    /// <summary>Gets the request path, such as <c>/v1/agent/service/register</c>.</summary>
    public required string Path { get; init; }

    /// <summary>Gets the query string, with its leading <c>?</c>, or empty.</summary>
    public required string Query { get; init; }

    /// <summary>Gets the <c>X-Consul-Token</c> header, if sent.</summary>
    public required string? Token { get; init; }

    public required string Body { get; init; }

    /// <summary>Gets the <see cref="System.Diagnostics.Stopwatch"/> timestamp of the arrival.</summary>
    public required long ArrivedAt { get; init; }

    /// <summary>Gets the status code answered, or 0 while the call is in progress.</summary>
    public int StatusCode { get; internal set; }

    public bool IsRegister => Method == "PUT" && Path == "/v1/agent/service/register";

    public bool IsDeregister => Method == "PUT" && Path.StartsWith("/v1/agent/service/deregister/", StringComparison.Ordinal);

    public bool IsServiceRead => Method == "GET" && Path.StartsWith("/v1/agent/service/", StringComparison.Ordinal);

    /// <summary>Gets the body parsed as JSON.</summary>
    public JsonElement Json()
    {
        using var document = JsonDocument.Parse(Body);
        return document.RootElement.Clone();
    }

    public override string ToString() => $"#{Sequence} {Method} {Path}{Query} -> {StatusCode}";
}
