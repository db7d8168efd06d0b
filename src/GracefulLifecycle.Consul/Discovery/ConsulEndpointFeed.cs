using System.Globalization;
using System.Net;
using System.Text.Json;
using GracefulLifecycle.Discovery;
using GracefulLifecycle.Transport;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Consul;

/// <summary>
/// The passing instances of one service in Consul, followed with blocking queries on
/// <c>GET /v1/health/service/{name}?passing&amp;index={X-Consul-Index}&amp;wait=60s</c>: the agent holds the answer
/// until the service changes (a deregistration, a check turning critical) or the wait ends, so a change arrives within
/// a round trip. The client's rules from Consul's documentation (website/content/api-docs/features/blocking.mdx) are
/// kept: an index that goes backwards starts again from 0 (a full, non-blocking read), and an index below 1 counts
/// as 1. With a <see cref="ConsulEndpointProviderOptions.ConsumerRefreshInterval"/> it reads the list at that
/// interval instead.
/// </summary>
internal sealed class ConsulEndpointFeed : EndpointFeed
{
    /// <summary>
    /// The wait asked of each blocking query: shorter than the agent's 5-minute default, so a connection that died
    /// silently is noticed within about a minute (the call times out at the wait, its sixteenth of jitter, and the
    /// request timeout).
    /// </summary>
    internal static readonly TimeSpan BlockingWait = TimeSpan.FromMinutes(1);

    private readonly ConsulEndpointProviderOptions _options;
    private readonly RegistryTransport _transport;
    private readonly ILogger _logger;
    private readonly string _path;

    public ConsulEndpointFeed(string serviceName, ConsulEndpointProviderOptions options, RegistryTransport transport, ILogger logger, TimeProvider time)
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
        _path = $"v1/health/service/{Uri.EscapeDataString(serviceName)}?passing";
    }

    protected override async Task RunSessionAsync(CancellationToken cancellationToken)
    {
        var interval = _options.ConsumerRefreshInterval;
        ulong index = 0;
        while (true)
        {
            var blocking = interval == TimeSpan.Zero && index > 0;
            var path = blocking ? $"{_path}&index={index}&wait={(int)BlockingWait.TotalSeconds}s" : _path;
            var attemptTimeout = blocking ? BlockingWait + (BlockingWait / 16) + _options.RequestTimeout : _options.RequestTimeout;
            var answer = await _transport.SendAsync(HttpMethod.Get, path, null, cancellationToken, attemptTimeout).ConfigureAwait(false);
            if (!answer.IsSuccess)
            {
                throw _transport.Refused(answer);
            }

            Publish(Read(answer.Body));
            if (interval > TimeSpan.Zero)
            {
                await Task.Delay(interval, Time, cancellationToken).ConfigureAwait(false);
                continue;
            }

            var next = ReadIndex(answer);
            if (next < index)
            {
                // The index went backwards (a restored snapshot, another cluster behind the address): read it all again.
                Log.ProviderIndexReset(_logger, ServiceName, index, next);
                index = 0;
                continue;
            }

            index = Math.Max(next, 1);
        }
    }

    private static ulong ReadIndex(RegistryAnswer answer) =>
        answer.Headers is { } headers && headers.TryGetValues("X-Consul-Index", out var values)
            && ulong.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            ? index
            : throw new HttpRequestException(HttpRequestError.InvalidResponse, "The Consul agent answered the health query without a valid X-Consul-Index header.");

    /// <summary>Reads the entries' addresses: the service's own address, else its node's (as Consul's DNS interface does).</summary>
    private List<EndPoint> Read(string body)
    {
        var endpoints = new List<EndPoint>();
        using var document = JsonDocument.Parse(body);
        foreach (var entry in document.RootElement.EnumerateArray())
        {
            if (!entry.TryGetProperty("Service", out var service)
                || !service.TryGetProperty("Port", out var portElement) || !portElement.TryGetInt32(out var port) || port is < 1 or > 65535)
            {
                Log.ProviderSkippedEntry(_logger, ServiceName, "no port");
                continue;
            }

            var address = service.TryGetProperty("Address", out var a) ? a.GetString() : null;
            if (string.IsNullOrEmpty(address) && entry.TryGetProperty("Node", out var node) && node.TryGetProperty("Address", out var n))
            {
                address = n.GetString();
            }

            if (string.IsNullOrEmpty(address))
            {
                Log.ProviderSkippedEntry(_logger, ServiceName, "no address");
                continue;
            }

            endpoints.Add(IPAddress.TryParse(address, out var ip) ? new IPEndPoint(ip, port) : new DnsEndPoint(address, port));
        }

        return endpoints;
    }
}
