using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Etcd;

/// <summary>
/// Calls etcd's JSON gateway (<c>POST /v3/...</c>), failing over between endpoints on transport errors, timeouts
/// and 5xx answers, and starting from the endpoint that answered last. A client is taken from the factory per call
/// so DNS changes are picked up. Gateway quirks it leaves to the caller:
/// 64-bit integers arrive as strings, binary fields are base64, and zero values are left out.
/// </summary>
internal sealed class EtcdGateway(Func<HttpClient> httpClient, IReadOnlyList<Uri> endpoints, ILogger logger)
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private int _current;

    public static IReadOnlyList<Uri> ParseEndpoints(string? value)
    {
        var endpoints = new List<Uri>();
        foreach (var part in (value ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Uri.TryCreate(part.EndsWith('/') ? part : part + "/", UriKind.Absolute, out var uri) &&
                (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            {
                endpoints.Add(uri);
            }
        }

        return endpoints;
    }

    /// <summary>Reads a gateway int64, which arrives as a JSON string (or, from some proxies, a number).</summary>
    public static long ReadInt64(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value)
            ? value.ValueKind == JsonValueKind.String ? long.Parse(value.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : value.GetInt64()
            : 0;

    /// <summary>Posts a JSON body and returns the status code and the parsed answer.</summary>
    public async Task<(HttpStatusCode Status, JsonDocument Body)> PostAsync(string path, Action<Utf8JsonWriter> writeBody, CancellationToken cancellationToken)
    {
        var content = WriteJson(writeBody);
        Exception? lastFailure = null;
        var first = Volatile.Read(ref _current);
        for (var i = 0; i < endpoints.Count; i++)
        {
            var index = (first + i) % endpoints.Count;
            var endpoint = endpoints[index];
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint, path))
                {
                    Content = new ByteArrayContent(content) { Headers = { ContentType = Json } },
                };
                using var response = await httpClient().SendAsync(request, cancellationToken).ConfigureAwait(false);
                var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                if ((int)response.StatusCode >= 500)
                {
                    lastFailure = new HttpRequestException($"etcd answered {(int)response.StatusCode}: {text}", null, response.StatusCode);
                    Log.EndpointFailed(logger, endpoint, $"status {(int)response.StatusCode}");
                    continue;
                }

                Volatile.Write(ref _current, index);
                return (response.StatusCode, Parse(text));
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or SocketException && !cancellationToken.IsCancellationRequested)
            {
                // A bare SocketException is a connection the endpoint reset at once, which SocketsHttpHandler does not wrap.
                lastFailure = ex;
                Log.EndpointFailed(logger, endpoint, ex.Message);
            }
        }

        throw new HttpRequestException($"No etcd endpoint answered {path}.", lastFailure);
    }

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
