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
    /// <summary>The most of an answer read: etcd's own answers are a few hundred bytes.</summary>
    internal const int MaxAnswerBytes = 64 * 1024;

    /// <summary>The most of an answer quoted in an exception message.</summary>
    internal const int MaxExcerptChars = 512;

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

    /// <summary>
    /// Posts a JSON body and returns the status code and the parsed answer. An answer that is not JSON, or longer than
    /// <see cref="MaxAnswerBytes"/>, counts as a failed endpoint like a 5xx: the next one is tried.
    /// </summary>
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
                using var response = await httpClient().SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                var text = await ReadCappedAsync(response.Content, cancellationToken).ConfigureAwait(false);
                if ((int)response.StatusCode >= 500 || (int)response.StatusCode is >= 300 and < 400)
                {
                    // Redirects are not followed (the handler is built so): a 3xx is an endpoint that does not serve.
                    lastFailure = new HttpRequestException($"etcd at {Redact(endpoint)} answered {(int)response.StatusCode}: {Excerpt(text)}", null, response.StatusCode);
                    Log.EndpointFailed(logger, Redact(endpoint), $"status {(int)response.StatusCode}");
                    continue;
                }

                var body = Parse(text);
                Volatile.Write(ref _current, index);
                return (response.StatusCode, body);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or SocketException or JsonException or InvalidDataException && !cancellationToken.IsCancellationRequested)
            {
                // A bare SocketException is a connection the endpoint reset at once, which SocketsHttpHandler does not wrap.
                // Malformed or oversized answers are a broken endpoint too: another one may serve.
                lastFailure = ex is JsonException json
                    ? new HttpRequestException(HttpRequestError.InvalidResponse, $"etcd at {Redact(endpoint)} answered {path} with malformed JSON: {json.Message}", json)
                    : ex;
                Log.EndpointFailed(logger, Redact(endpoint), lastFailure.Message);
            }
        }

        throw new HttpRequestException($"No etcd endpoint answered {path}.", lastFailure);
    }

    /// <summary>An endpoint as it may appear in logs and messages: without any user:password part.</summary>
    internal static string Redact(Uri endpoint) =>
        string.IsNullOrEmpty(endpoint.UserInfo) ? endpoint.ToString() : endpoint.GetComponents(UriComponents.AbsoluteUri & ~UriComponents.UserInfo, UriFormat.UriEscaped);

    private static string Excerpt(string text) => text.Length <= MaxExcerptChars ? text : string.Concat(text.AsSpan(0, MaxExcerptChars), "…");

    private static async Task<string> ReadCappedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > MaxAnswerBytes)
        {
            throw new InvalidDataException($"etcd's answer of {content.Headers.ContentLength} bytes is over the {MaxAnswerBytes}-byte limit.");
        }

        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var buffer = new byte[MaxAnswerBytes + 1];
            var length = 0;
            int read;
            while (length < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false)) > 0)
            {
                length += read;
            }

            if (length > MaxAnswerBytes)
            {
                throw new InvalidDataException($"etcd's answer is over the {MaxAnswerBytes}-byte limit.");
            }

            return System.Text.Encoding.UTF8.GetString(buffer, 0, length);
        }
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
