using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using GracefulLifecycle.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Etcd;

/// <summary>
/// Registers the instance as a key attached to a lease: grant the lease, put the key with it; keep the lease alive;
/// revoke it to leave, which deletes the key in the same step. A keep-alive answer without a TTL means the lease
/// expired (etcd was unreachable longer than the TTL): the lifecycle then registers again with a new lease.
/// </summary>
internal sealed class EtcdRegistry : IServiceRegistry
{
    public const string HttpClientName = "GracefulLifecycle.Etcd";

    private readonly EtcdOptions _options;
    private readonly ILogger _logger;
    private readonly EtcdGateway _gateway;
    private long _leaseId;
    private string _key = string.Empty;

    public EtcdRegistry(IHttpClientFactory httpClients, IOptions<EtcdOptions> options, TimeProvider time, ILogger<EtcdRegistry> logger)
    {
        _options = options.Value;
        _logger = logger;
        _gateway = new EtcdGateway(
            () => httpClients.CreateClient(HttpClientName), RegistryUrls.Parse(_options.Endpoints, out _), logger, time, () => _options.RequestTimeout);
    }

    public string Name => "etcd";

    /// <summary>Gets <see cref="EtcdOptions.VisibilityDelay"/>, or the propagation delay: a new key travels the same chain as a deleted one.</summary>
    public TimeSpan VisibilityDelay => _options.VisibilityDelay ?? PropagationDelay.Total;

    /// <summary>
    /// Gets the chain from the revoke to the last consumer that may still call: no registry term (the revoke deletes the
    /// key at once, and reads are linearizable) + the consumers' refresh + their load balancer's cache + the margin.
    /// </summary>
    public PropagationDelay PropagationDelay
    {
        get
        {
            var o = _options;
            const string Prefix = EtcdOptions.SectionName + ":";
            return new PropagationDelay(
            [
                new(PropagationStage.ConsumerRefresh, o.ConsumerRefreshInterval, Source(nameof(EtcdOptions.ConsumerRefreshInterval), o.ConsumerRefreshIntervalIsSet)),
                new(PropagationStage.LoadBalancerCache, o.LoadBalancerCacheTtl, Source(nameof(EtcdOptions.LoadBalancerCacheTtl), o.LoadBalancerCacheTtlIsSet)),
                new(PropagationStage.Margin, o.PropagationMargin, Prefix + nameof(EtcdOptions.PropagationMargin)),
            ]);

            string Source(string option, bool set) =>
                set ? Prefix + option : $"{Prefix}{option}, set by {Prefix}{nameof(EtcdOptions.ConsumerProfile)} {o.ConsumerProfile}";
        }
    }

    public TimeSpan RenewalInterval => _options.KeepAliveInterval ?? _options.LeaseTtl / 3;

    public async Task RegisterAsync(ServiceInstance instance, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var port = _options.Port ?? instance.GetPort(Uri.UriSchemeHttp) ?? throw new InvalidOperationException(
            $"The server does not listen on http, so the port to register in etcd is unknown; set {EtcdOptions.SectionName}:{nameof(EtcdOptions.Port)}.");
        var name = _options.ServiceName ?? instance.ApplicationName;
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new InvalidOperationException(
                $"The host has no application name to register in etcd; set {EtcdOptions.SectionName}:{nameof(EtcdOptions.ServiceName)}.");
        }

        var id = _options.InstanceId ?? $"{instance.HostName}-{port}";
        var key = $"{_options.KeyPrefix.TrimEnd('/')}/{name}/{id}";
        var value = InstanceJson(name, id, _options.Address ?? instance.IpAddress, port);

        var ttl = (long)_options.LeaseTtl.TotalSeconds;
        var (status, granted) = await _gateway.PostAsync("v3/lease/grant", w => w.WriteNumber("TTL", ttl), cancellationToken).ConfigureAwait(false);
        using (granted)
        {
            EnsureSuccess(status, granted, "lease grant");
            var leaseId = EtcdGateway.ReadInt64(granted.RootElement, "ID");
            if (leaseId == 0)
            {
                // A put with lease 0 has no lease: the key would outlive the instance. Never write it.
                throw new HttpRequestException(HttpRequestError.InvalidResponse, "etcd granted a lease without an ID; no key is written without a lease.");
            }

            try
            {
                var (putStatus, put) = await _gateway.PostAsync("v3/kv/put", w =>
                {
                    w.WriteString("key", Convert.ToBase64String(Encoding.UTF8.GetBytes(key)));
                    w.WriteString("value", Convert.ToBase64String(value));
                    w.WriteString("lease", leaseId.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }, cancellationToken).ConfigureAwait(false);
                using (put)
                {
                    EnsureSuccess(putStatus, put, "put");
                }
            }
            catch
            {
                // Do not leave an orphan lease behind; it would expire on its own anyway.
                await RevokeQuietlyAsync(leaseId).ConfigureAwait(false);
                throw;
            }

            Interlocked.Exchange(ref _leaseId, leaseId);
            _key = key;
            Log.Registered(_logger, leaseId, EtcdGateway.ReadInt64(granted.RootElement, "TTL"), key);
        }
    }

    public async Task<bool> RenewAsync(CancellationToken cancellationToken)
    {
        var leaseId = Interlocked.Read(ref _leaseId);
        if (leaseId == 0)
        {
            return false;
        }

        var (status, answer) = await _gateway.PostAsync("v3/lease/keepalive", w => WriteLeaseId(w, leaseId), cancellationToken).ConfigureAwait(false);
        using (answer)
        {
            EnsureSuccess(status, answer, "lease keep-alive");

            // The gateway wraps stream messages in "result" and leaves out a zero TTL: no TTL means no lease.
            var result = answer.RootElement.TryGetProperty("result", out var r) ? r : answer.RootElement;
            if (EtcdGateway.ReadInt64(result, "TTL") > 0)
            {
                return true;
            }

            Log.LeaseLost(_logger, leaseId, _key);
            return false;
        }
    }

    public async Task DeregisterAsync(CancellationToken cancellationToken)
    {
        var leaseId = Interlocked.Read(ref _leaseId);
        if (leaseId == 0)
        {
            Log.NothingToDeregister(_logger);
            return;
        }

        var (status, answer) = await _gateway.PostAsync("v3/lease/revoke", w => WriteLeaseId(w, leaseId), cancellationToken).ConfigureAwait(false);
        using (answer)
        {
            if (status == HttpStatusCode.NotFound)
            {
                Interlocked.CompareExchange(ref _leaseId, 0, leaseId);
                Log.LeaseAlreadyGone(_logger, leaseId);
                return;
            }

            EnsureSuccess(status, answer, "lease revoke");

            // Forgotten, so nothing more is sent for it.
            Interlocked.CompareExchange(ref _leaseId, 0, leaseId);
            Log.LeaseRevoked(_logger, leaseId, _key);
        }
    }

    private static void WriteLeaseId(Utf8JsonWriter writer, long leaseId) =>
        writer.WriteString("ID", leaseId.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static void EnsureSuccess(HttpStatusCode status, JsonDocument answer, string call)
    {
        if ((int)status is < 200 or > 299)
        {
            var error = answer.RootElement.TryGetProperty("error", out var e) ? e.ToString() : answer.RootElement.ToString();
            throw new HttpRequestException($"etcd {call} failed with {(int)status}: {RegistryTransport.Excerpt(error)}", null, status);
        }
    }

    private byte[] InstanceJson(string name, string id, string address, int port)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("name", name);
            writer.WriteString("id", id);
            writer.WriteString("address", address);
            writer.WriteNumber("port", port);
            writer.WriteStartObject("metadata");
            foreach (var (key, value) in _options.Metadata)
            {
                writer.WriteString(key, value);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private async Task RevokeQuietlyAsync(long leaseId)
    {
        try
        {
            // Each attempt is bounded by the request timeout on the lifecycle's clock.
            var (_, answer) = await _gateway.PostAsync("v3/lease/revoke", w => WriteLeaseId(w, leaseId), CancellationToken.None).ConfigureAwait(false);
            answer.Dispose();
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or OperationCanceledException or SocketException)
        {
            // Best effort: the lease expires after its TTL.
        }
    }
}
