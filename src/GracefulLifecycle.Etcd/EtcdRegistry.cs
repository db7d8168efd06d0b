using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using GracefulLifecycle.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Etcd;

/// <summary>
/// Registers the instance as a key attached to a lease: grant the lease, then write the key with it in a transaction
/// that writes only if the key does not exist, so the key of another instance (another lease) is never overwritten;
/// keep the lease alive and check at each renewal that the key is still there under it; revoke the lease to leave,
/// which deletes only the keys attached to it, so a key another lease holds is never deleted. A keep-alive answer
/// without a TTL means the lease expired (etcd was unreachable longer than the TTL), and a key gone or held by another
/// lease means someone deleted or took it: either way the lifecycle registers again.
/// </summary>
internal sealed class EtcdRegistry : IServiceRegistry
{
    public const string HttpClientName = "GracefulLifecycle.Etcd";

    private readonly EtcdOptions _options;
    private readonly ILogger _logger;
    private readonly EtcdGateway _gateway;
    private readonly TimeProvider _time;
    private long _leaseId;
    private string _key = string.Empty;

    // The lease seen holding the key at the first refused attempt, when, and how long it lives unless kept alive.
    private long _holderLease;
    private long _holderSeenAt;
    private TimeSpan _holderWait;

    public EtcdRegistry(IHttpClientFactory httpClients, IOptions<EtcdOptions> options, TimeProvider time, ILogger<EtcdRegistry> logger)
    {
        _options = options.Value;
        _logger = logger;
        _time = time;
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
            return ConsumerChain.Create(
                EtcdOptions.SectionName,
                o.ConsumerProfile,
                (o.ConsumerRefreshInterval, o.ConsumerRefreshIntervalIsSet),
                (o.LoadBalancerCacheTtl, o.LoadBalancerCacheTtlIsSet),
                o.PropagationMargin);
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
        var value = InstanceJson(name, id, _options.ServiceAddress ?? instance.IpAddress, port);

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

            long? holder;
            try
            {
                holder = await PutIfAbsentAsync(key, value, leaseId, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // Do not leave an orphan lease behind; it would expire on its own anyway.
                await RevokeQuietlyAsync(leaseId, CancellationToken.None).ConfigureAwait(false);
                throw;
            }

            if (holder is { } other)
            {
                await RevokeQuietlyAsync(leaseId, cancellationToken).ConfigureAwait(false);
                throw await KeyTakenAsync(key, id, other, cancellationToken).ConfigureAwait(false);
            }

            _holderLease = 0;
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
            if (EtcdGateway.ReadInt64(result, "TTL") <= 0)
            {
                Log.LeaseLost(_logger, leaseId, _key);
                return false;
            }
        }

        // The lease lives, but the key may not: someone deleted it (etcdctl del, a cleanup job) or another instance with
        // the same id wrote it under its own lease. Renewing a lease without its key would keep the instance unlisted
        // for good while it reports ready, so the key is checked and the lifecycle registers again when it is not ours.
        var holder = await ReadHolderAsync(_key, cancellationToken).ConfigureAwait(false);
        if (holder == leaseId)
        {
            return true;
        }

        Log.KeyLost(_logger, _key, leaseId, holder);

        // The lease has nothing left to hold: revoke it now rather than leave it to expire (a failure changes nothing).
        await RevokeQuietlyAsync(leaseId, cancellationToken).ConfigureAwait(false);
        return false;
    }

    public async Task DeregisterAsync(DeregistrationContext context, CancellationToken cancellationToken)
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

    /// <summary>
    /// Writes the key with the lease in one transaction, only if the key does not exist (its create revision is 0), and
    /// reads it otherwise: returns <see langword="null"/> when written, else the lease that holds it (0 for none).
    /// </summary>
    private async Task<long?> PutIfAbsentAsync(string key, byte[] value, long leaseId, CancellationToken cancellationToken)
    {
        var encodedKey = Convert.ToBase64String(Encoding.UTF8.GetBytes(key));

        // The gateway's JSON for etcdserverpb.TxnRequest: enums by name, int64 as strings, bytes as base64.
        var (status, answer) = await _gateway.PostAsync("v3/kv/txn", w =>
        {
            w.WriteStartArray("compare");
            w.WriteStartObject();
            w.WriteString("key", encodedKey);
            w.WriteString("result", "EQUAL");
            w.WriteString("target", "CREATE");
            w.WriteString("create_revision", "0");
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteStartArray("success");
            w.WriteStartObject();
            w.WriteStartObject("request_put");
            w.WriteString("key", encodedKey);
            w.WriteString("value", Convert.ToBase64String(value));
            w.WriteString("lease", leaseId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteStartArray("failure");
            w.WriteStartObject();
            w.WriteStartObject("request_range");
            w.WriteString("key", encodedKey);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndArray();
        }, cancellationToken).ConfigureAwait(false);
        using (answer)
        {
            EnsureSuccess(status, answer, "transaction");

            // A false "succeeded" is a zero value, which the gateway leaves out.
            if (answer.RootElement.TryGetProperty("succeeded", out var succeeded) && succeeded.ValueKind == JsonValueKind.True)
            {
                return null;
            }

            var range = answer.RootElement.TryGetProperty("responses", out var responses) && responses.GetArrayLength() > 0
                && responses[0].TryGetProperty("response_range", out var r) ? r : default;

            // The key was deleted between the compare and the range: nothing holds it, and the next attempt writes it.
            return range.ValueKind == JsonValueKind.Object ? HolderOf(range) ?? -1 : -1;
        }
    }

    /// <summary>Reads the lease that holds the key: 0 for a key without one, -1 for no key.</summary>
    private async Task<long> ReadHolderAsync(string key, CancellationToken cancellationToken)
    {
        var (status, answer) = await _gateway.PostAsync(
            "v3/kv/range", w => w.WriteString("key", Convert.ToBase64String(Encoding.UTF8.GetBytes(key))), cancellationToken).ConfigureAwait(false);
        using (answer)
        {
            EnsureSuccess(status, answer, "range");
            return HolderOf(answer.RootElement) ?? -1;
        }
    }

    private static long? HolderOf(JsonElement range) =>
        range.TryGetProperty("kvs", out var kvs) && kvs.GetArrayLength() > 0 ? EtcdGateway.ReadInt64(kvs[0], "lease") : null;

    /// <summary>
    /// The error for a key held by another lease. The holder may be a previous run of this instance, killed before it
    /// could leave, whose lease expires within its time-to-live: that is retried (a 409 the lifecycle retries with
    /// backoff) until then. A holder still there after its time-to-live has been kept alive by a live instance with the
    /// same id, and a key without a lease never expires: both are a configuration error that fails startup.
    /// </summary>
    private async Task<Exception> KeyTakenAsync(string key, string id, long holder, CancellationToken cancellationToken)
    {
        var fix = $"give each instance its own {EtcdOptions.SectionName}:{nameof(EtcdOptions.InstanceId)} (this one is '{id}')";
        if (holder == -1)
        {
            return new HttpRequestException($"The etcd key {key} was deleted while it was being written; writing it again.", null, HttpStatusCode.Conflict);
        }

        if (holder == 0)
        {
            Log.KeyTaken(_logger, key, holder, "it has no lease, so it never expires");
            return new InvalidOperationException(
                $"The etcd key {key} exists without a lease (another client wrote it), so it never expires; it is not overwritten. Delete it, or {fix}.");
        }

        if (holder == _holderLease && _time.GetElapsedTime(_holderSeenAt) > _holderWait)
        {
            Log.KeyTaken(_logger, key, holder, "its lease outlived its time-to-live, so a live instance keeps it alive");
            return new InvalidOperationException(
                $"Another live instance holds the etcd key {key}: its lease {holder} has been kept alive past its time-to-live " +
                $"({_holderWait.TotalSeconds:0} s), so two instances share one id. The key is not overwritten; {fix}.");
        }

        if (holder != _holderLease)
        {
            _holderLease = holder;
            _holderSeenAt = _time.GetTimestamp();
            _holderWait = await RemainingTtlAsync(holder, cancellationToken).ConfigureAwait(false) + TimeSpan.FromSeconds(1);
        }

        Log.KeyTaken(_logger, key, holder, "waiting for its lease to expire");
        return new HttpRequestException(
            $"The etcd key {key} is held by lease {holder} of another instance; it is not overwritten. A previous run of this " +
            $"instance that was killed holds it at most {_holderWait.TotalSeconds:0} s more; if it is still held then, a live " +
            $"instance keeps it and startup fails: {fix}.",
            null,
            HttpStatusCode.Conflict);
    }

    private async Task<TimeSpan> RemainingTtlAsync(long leaseId, CancellationToken cancellationToken)
    {
        try
        {
            var (status, answer) = await _gateway.PostAsync("v3/lease/timetolive", w => WriteLeaseId(w, leaseId), cancellationToken).ConfigureAwait(false);
            using (answer)
            {
                EnsureSuccess(status, answer, "lease time-to-live");
                return TimeSpan.FromSeconds(Math.Max(0, EtcdGateway.ReadInt64(answer.RootElement, "TTL")));
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException)
        {
            // Unknown: assume it was granted with the same time-to-live as ours.
            return _options.LeaseTtl;
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

    private async Task RevokeQuietlyAsync(long leaseId, CancellationToken cancellationToken = default)
    {
        try
        {
            // Each attempt is bounded by the request timeout on the lifecycle's clock.
            var (_, answer) = await _gateway.PostAsync("v3/lease/revoke", w => WriteLeaseId(w, leaseId), cancellationToken).ConfigureAwait(false);
            answer.Dispose();
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or OperationCanceledException or SocketException)
        {
            // Best effort: the lease expires after its TTL.
        }
    }
}
