using System.Net;
using System.Text;
using System.Text.Json;
using GracefulLifecycle.Discovery;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Etcd;

/// <summary>
/// The instances of one service in etcd: the keys under <c>{KeyPrefix}/{service}/</c>, each holding the JSON the
/// registration side writes (<c>address</c>, <c>port</c>). A session reads them with a range query, then watches the
/// prefix from the revision after that read (<c>POST /v3/watch</c> on the JSON gateway, which answers one JSON object
/// per line for as long as the watch lasts), so no change falls between the read and the watch. With a
/// <see cref="EtcdEndpointProviderOptions.ConsumerRefreshInterval"/> it reads the range again at that interval instead.
/// </summary>
internal sealed class EtcdEndpointFeed : EndpointFeed
{
    private readonly EtcdEndpointProviderOptions _options;
    private readonly Func<HttpClient> _httpClient;
    private readonly IReadOnlyList<Uri> _servers;
    private readonly ILogger _logger;
    private readonly EtcdGateway _gateway;
    private readonly string _keyFrom;
    private readonly string _keyTo;
    private int _watchServer;

    public EtcdEndpointFeed(
        string serviceName, EtcdEndpointProviderOptions options, Func<HttpClient> httpClient, IReadOnlyList<Uri> servers, ILogger logger, TimeProvider time)
        : base(serviceName, time, new EndpointFeedLog
        {
            Unreachable = (service, reason, retryMs, kept) => Log.ProviderUnreachable(logger, service, reason, retryMs, kept),
            Reconnected = (service, count) => Log.ProviderReconnected(logger, service, count),
            Changed = (service, count) => Log.ProviderChanged(logger, service, count),
        })
    {
        _options = options;
        _httpClient = httpClient;
        _servers = servers;
        _logger = logger;
        _gateway = new EtcdGateway(httpClient, servers, logger, time, () => options.RequestTimeout, MaxListBytes);

        // The same key the registration side writes: {KeyPrefix}/{ServiceName}/{InstanceId}.
        var prefix = Encoding.UTF8.GetBytes($"{options.KeyPrefix.TrimEnd('/')}/{serviceName}/");
        _keyFrom = Convert.ToBase64String(prefix);

        // The end of a prefix range is the prefix with its last byte increased ('/' becomes '0').
        var end = (byte[])prefix.Clone();
        end[^1]++;
        _keyTo = Convert.ToBase64String(end);
    }

    protected override async Task RunSessionAsync(CancellationToken cancellationToken)
    {
        var interval = _options.ConsumerRefreshInterval;
        if (interval > TimeSpan.Zero)
        {
            while (true)
            {
                var (polled, _) = await RangeAsync(cancellationToken).ConfigureAwait(false);
                Publish(polled.Values);
                await Task.Delay(interval, Time, cancellationToken).ConfigureAwait(false);
            }
        }

        var (instances, revision) = await RangeAsync(cancellationToken).ConfigureAwait(false);
        Publish(instances.Values);
        await WatchAsync(instances, revision + 1, cancellationToken).ConfigureAwait(false);
    }

    private async Task<(Dictionary<string, EndPoint> Instances, long Revision)> RangeAsync(CancellationToken cancellationToken)
    {
        var (status, answer) = await _gateway.PostAsync(
            "v3/kv/range",
            w =>
            {
                w.WriteString("key", _keyFrom);
                w.WriteString("range_end", _keyTo);
            },
            cancellationToken).ConfigureAwait(false);
        using (answer)
        {
            if ((int)status is < 200 or > 299)
            {
                throw new HttpRequestException($"etcd range of {ServiceName} failed with {(int)status}: {answer.RootElement}", null, status);
            }

            var instances = new Dictionary<string, EndPoint>(StringComparer.Ordinal);
            if (answer.RootElement.TryGetProperty("kvs", out var kvs))
            {
                foreach (var kv in kvs.EnumerateArray())
                {
                    Put(instances, kv);
                }
            }

            var revision = answer.RootElement.TryGetProperty("header", out var header) ? EtcdGateway.ReadInt64(header, "revision") : 0;
            return (instances, revision);
        }
    }

    private async Task WatchAsync(Dictionary<string, EndPoint> instances, long fromRevision, CancellationToken cancellationToken)
    {
        var server = _servers[_watchServer % _servers.Count];
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server, "v3/watch"))
        {
            Content = new StringContent(
                $$$"""{"create_request":{"key":"{{{_keyFrom}}}","range_end":"{{{_keyTo}}}","start_revision":"{{{fromRevision}}}"}}""",
                Encoding.UTF8,
                "application/json"),
        };

        // Opening the watch is bounded like any call; once etcd confirmed it, the stream lasts as long as etcd does.
        using var opening = new CancellationTokenSource(_options.RequestTimeout, Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, opening.Token);
        try
        {
            using var response = await _httpClient().SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"etcd endpoint {server} refused the watch with {(int)response.StatusCode}.", null, response.StatusCode);
            }

            var stream = await response.Content.ReadAsStreamAsync(linked.Token).ConfigureAwait(false);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            while (await reader.ReadLineAsync(linked.Token).ConfigureAwait(false) is { } line)
            {
                if (line.Length == 0)
                {
                    continue;
                }

                using var message = JsonDocument.Parse(line);
                if (message.RootElement.TryGetProperty("error", out var error))
                {
                    throw new HttpRequestException($"etcd ended the watch of {ServiceName}: {error}");
                }

                if (!message.RootElement.TryGetProperty("result", out var result))
                {
                    continue;
                }

                if (result.TryGetProperty("created", out var created) && created.ValueKind == JsonValueKind.True)
                {
                    opening.CancelAfter(Timeout.InfiniteTimeSpan);
                    Log.ProviderWatching(_logger, ServiceName, fromRevision);
                }

                if (result.TryGetProperty("canceled", out var canceled) && canceled.ValueKind == JsonValueKind.True)
                {
                    // Compacted past the revision asked for, or cancelled by the server: read the whole range again.
                    var reason = result.TryGetProperty("cancel_reason", out var r) ? r.GetString() : null;
                    throw new HttpRequestException($"etcd cancelled the watch of {ServiceName} (compact revision {EtcdGateway.ReadInt64(result, "compact_revision")}{(reason is null ? null : ", " + reason)}).");
                }

                if (result.TryGetProperty("events", out var events) && events.GetArrayLength() > 0)
                {
                    foreach (var change in events.EnumerateArray())
                    {
                        if (!change.TryGetProperty("kv", out var kv))
                        {
                            continue;
                        }

                        // The gateway leaves out zero values: an event without a type is a PUT.
                        if (change.TryGetProperty("type", out var type) && type.GetString() == "DELETE")
                        {
                            instances.Remove(kv.GetProperty("key").GetString()!);
                        }
                        else
                        {
                            Put(instances, kv);
                        }
                    }

                    Publish(instances.Values);
                }
            }

            throw new HttpRequestException(HttpRequestError.ResponseEnded, $"etcd endpoint {server} ended the watch of {ServiceName}.");
        }
        catch (OperationCanceledException ex) when (opening.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            _watchServer++;
            throw new TimeoutException($"etcd endpoint {server} did not open the watch of {ServiceName} within {_options.RequestTimeout}.", ex);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The next session watches through the next endpoint.
            _watchServer++;
            throw;
        }
    }

    private void Put(Dictionary<string, EndPoint> instances, JsonElement kv)
    {
        var key = kv.GetProperty("key").GetString()!;
        if (TryReadEndpoint(kv, out var endpoint))
        {
            instances[key] = endpoint;
        }
        else
        {
            instances.Remove(key);
            Log.ProviderSkippedKey(_logger, Encoding.UTF8.GetString(Convert.FromBase64String(key)));
        }
    }

    /// <summary>Reads the address and port of the JSON the registration side writes; anything else is not an instance.</summary>
    private static bool TryReadEndpoint(JsonElement kv, out EndPoint endpoint)
    {
        endpoint = null!;
        try
        {
            if (!kv.TryGetProperty("value", out var value))
            {
                return false;
            }

            using var instance = JsonDocument.Parse(Convert.FromBase64String(value.GetString()!));
            var root = instance.RootElement;
            if (!root.TryGetProperty("address", out var address) || address.GetString() is not { Length: > 0 } host
                || !root.TryGetProperty("port", out var portElement) || !portElement.TryGetInt32(out var port) || port is < 1 or > 65535)
            {
                return false;
            }

            endpoint = IPAddress.TryParse(host, out var ip) ? new IPEndPoint(ip, port) : new DnsEndPoint(host, port);
            return true;
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
        {
            return false;
        }
    }
}
