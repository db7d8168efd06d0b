using System.Net;
using System.Text.Json;
using GracefulLifecycle.Transport;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Etcd;

/// <summary>
/// Calls etcd's JSON gateway (<c>POST /v3/...</c>) through the adapters' shared <see cref="RegistryTransport"/>:
/// failover between endpoints on transport errors, timeouts, redirects, 5xx and unreadable answers, starting from the
/// endpoint that answered last. Gateway quirks it leaves to the caller: 64-bit integers arrive as strings, binary
/// fields are base64, and zero values are left out.
/// </summary>
internal sealed class EtcdGateway
{
    private readonly RegistryTransport _transport;

    public EtcdGateway(Func<HttpClient> httpClient, IReadOnlyList<Uri> endpoints, ILogger logger, TimeProvider? time = null, Func<TimeSpan>? requestTimeout = null, int answerLimit = RegistryTransport.MaxAnswerBytes)
    {
        _transport = new RegistryTransport(
            "etcd endpoint",
            httpClient,
            endpoints,
            time ?? TimeProvider.System,
            requestTimeout ?? (static () => EtcdOptions.DefaultRequestTimeout),
            new RegistryTransportLog
            {
                FailingOver = (endpoint, method, path, reason, next) => Log.FailingOver(logger, endpoint, method, path, reason, next),
                ServerSwitched = endpoint => Log.ServerSwitched(logger, endpoint),
                CallCompleted = (method, path, status, elapsed) => Log.CallCompleted(logger, method, path, status, elapsed),
            })
        {
            AnswerLimit = answerLimit,
        };
    }

    /// <summary>Reads a gateway int64, which arrives as a JSON string (or, from some proxies, a number).</summary>
    public static long ReadInt64(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value)
            ? value.ValueKind == JsonValueKind.String ? long.Parse(value.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : value.GetInt64()
            : 0;

    /// <summary>
    /// Posts a JSON body and returns the status code and the parsed answer. An answer that is not JSON counts as a
    /// failed endpoint like a 5xx: the next one is tried.
    /// </summary>
    public Task<(HttpStatusCode Status, JsonDocument Body)> PostAsync(string path, Action<Utf8JsonWriter> writeBody, CancellationToken cancellationToken) =>
        _transport.SendAsync(HttpMethod.Post, path, WriteJson(writeBody), static answer => (answer.Status, Parse(answer.Body)), cancellationToken);

    private static JsonDocument Parse(string text)
    {
        // Streaming endpoints (lease keep-alive) answer newline-delimited JSON: one request, one line.
        var firstLine = text.AsSpan().Trim();
        var newline = firstLine.IndexOf('\n');
        return JsonDocument.Parse((newline < 0 ? firstLine : firstLine[..newline]).ToString() is { Length: > 0 } json ? json : "{}");
    }

    private static byte[] WriteJson(Action<Utf8JsonWriter> writeBody)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writeBody(writer);
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
