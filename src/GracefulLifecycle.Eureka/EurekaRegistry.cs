using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using GracefulLifecycle.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Eureka;

/// <summary>
/// Registers the instance with Eureka through its REST API (<c>POST apps/{APP}</c>), sends heartbeats
/// (<c>PUT apps/{APP}/{ID}?status=UP&amp;lastDirtyTimestamp=…</c>) and leaves with a cancel
/// (<c>DELETE apps/{APP}/{ID}</c>). The lifecycle decides when; this class only makes the calls.
/// </summary>
/// <remarks>
/// <para>
/// Leaving is a single <c>DELETE</c>, with no <c>OUT_OF_SERVICE</c> or <c>DOWN</c> status update first. The cancel
/// removes the instance and any status override in one call. A status update is a <c>PUT</c> that keeps a record
/// consumers still fetch (and one more call that can arrive out of order), and any call that reaches Eureka after
/// leaving risks registering the instance again (spring-cloud-netflix#1543). The lifecycle guarantees that nothing
/// follows the deregistration; the delay that follows it covers the server's response cache and the consumers'
/// fetch interval (<see cref="PropagationDelay"/>).
/// </para>
/// <para>
/// Each call starts at the server that answered last and fails over to the next one, in order, on a connection
/// error, a timeout (<see cref="EurekaOptions.RequestTimeout"/>) or a 5xx answer. Any other 4xx than the 404 of a
/// heartbeat or a cancel is an error with the status and the body, without failover: another server would refuse
/// the same request.
/// </para>
/// </remarks>
internal sealed class EurekaRegistry : IServiceRegistry
{
    public const string HttpClientName = "GracefulLifecycle.Eureka";

    private const int MaxErrorBodyLength = 1024;

    private readonly IOptions<EurekaOptions> _options;
    private readonly IServiceProvider _services;
    private readonly IHttpClientFactory _httpClients;
    private readonly InstanceAddress _address;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private Uri[]? _serviceUrls;
    private int _preferred;
    private volatile EurekaInstance? _instance;

    // The lifecycle's options are resolved when registering, never here: validating them creates the registries
    // (to read their delays), so depending on them, even through IOptions<T>, would be a circular dependency.
    // The host environment is looked up there too, and only when no AppName is set.
    public EurekaRegistry(
        IOptions<EurekaOptions> options,
        IServiceProvider services,
        IHttpClientFactory httpClients,
        InstanceAddress address,
        TimeProvider time,
        ILogger<EurekaRegistry> logger)
    {
        _options = options;
        _services = services;
        _httpClients = httpClients;
        _address = address;
        _time = time;
        _logger = logger;
    }

    public string Name => "Eureka";

    /// <summary>Gets <see cref="EurekaOptions.VisibilityDelay"/>, or the propagation delay when it is not set.</summary>
    public TimeSpan VisibilityDelay => _options.Value.VisibilityDelay ?? PropagationDelay;

    /// <summary>
    /// Gets the server's response cache interval + the consumers' registry fetch interval + the margin for client
    /// load-balancer caches: how long a consumer may still pick the instance after the cancel.
    /// </summary>
    public TimeSpan PropagationDelay
    {
        get
        {
            var o = _options.Value;
            return TimeSpan.FromMilliseconds(o.ResponseCacheUpdateIntervalMs) + TimeSpan.FromSeconds(o.RegistryFetchIntervalSeconds) + o.PropagationMargin;
        }
    }

    public TimeSpan RenewalInterval => TimeSpan.FromSeconds(_options.Value.LeaseRenewalIntervalInSeconds);

    /// <summary>Gets the instance last composed for registration, if any.</summary>
    internal EurekaInstance? Instance => _instance;

    private Uri[] Urls => _serviceUrls ??= ServiceUrls.Parse(_options.Value.ServiceUrl, out _);

    public async Task RegisterAsync(CancellationToken cancellationToken)
    {
        var instance = Compose();
        _instance = instance;
        var body = instance.ToJson();
        var path = AppPath(instance);

        var (response, serviceUrl) = await SendAsync(HttpMethod.Post, path, body, cancellationToken).ConfigureAwait(false);
        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw await RefusedAsync(response, serviceUrl, "POST", path, cancellationToken).ConfigureAwait(false);
            }
        }

        Log.InstanceRegistered(_logger, instance.InstanceId, instance.App, instance.HostName, instance.IpAddress, instance.MainPort, ServiceUrls.Redact(serviceUrl));
    }

    public async Task<bool> RenewAsync(CancellationToken cancellationToken)
    {
        if (_instance is not { } instance)
        {
            return false;
        }

        // The registration's own timestamp: a newer one tells Eureka the instance changed, and it answers 404.
        var path = string.Create(
            CultureInfo.InvariantCulture,
            $"{InstancePath(instance)}?status=UP&lastDirtyTimestamp={instance.LastDirtyTimestamp}");
        var (response, serviceUrl) = await SendAsync(HttpMethod.Put, path, body: null, cancellationToken).ConfigureAwait(false);
        using (response)
        {
            if (response.IsSuccessStatusCode)
            {
                return true;
            }

            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                Log.HeartbeatNotFound(_logger, ServiceUrls.Redact(serviceUrl), instance.InstanceId, instance.App);
                return false;
            }

            throw await RefusedAsync(response, serviceUrl, "PUT", path, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task DeregisterAsync(CancellationToken cancellationToken)
    {
        if (_instance is not { } instance)
        {
            Log.NothingToDeregister(_logger);
            return;
        }

        var path = InstancePath(instance);
        var (response, serviceUrl) = await SendAsync(HttpMethod.Delete, path, body: null, cancellationToken, DeregistrationAttemptTimeout()).ConfigureAwait(false);
        using (response)
        {
            if (response.IsSuccessStatusCode)
            {
                Log.InstanceCanceled(_logger, instance.InstanceId, instance.App, ServiceUrls.Redact(serviceUrl));
                return;
            }

            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                // Never registered (the registration was lost on the way) or already evicted: the goal is reached.
                Log.DeregisteredUnknownInstance(_logger, instance.InstanceId, instance.App);
                return;
            }

            throw await RefusedAsync(response, serviceUrl, "DELETE", path, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Each server's share of the deregistration budget when <see cref="EurekaOptions.RequestTimeout"/> would not let
    /// every server be tried in it: a first server that hangs must not use up the time of the one that works.
    /// </summary>
    private TimeSpan? DeregistrationAttemptTimeout()
    {
        if (_services.GetService<IOptions<GracefulLifecycleOptions>>()?.Value.Registration is not { } registration)
        {
            return null;
        }

        if (Urls.Length < 2)
        {
            // One server: the deregistration deadline itself bounds its call.
            return null;
        }

        var budget = registration.DeregistrationTimeout - registration.InFlightCallTimeout;
        var share = budget / Urls.Length;
        return share > TimeSpan.Zero && share < _options.Value.RequestTimeout ? share : null;
    }

    private static string AppPath(EurekaInstance instance) => "apps/" + Uri.EscapeDataString(instance.App);

    private static string InstancePath(EurekaInstance instance) => AppPath(instance) + "/" + Uri.EscapeDataString(instance.InstanceId);

    private static async Task<HttpRequestException> RefusedAsync(
        HttpResponseMessage response, Uri serviceUrl, string method, string path, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (body.Length > MaxErrorBodyLength)
        {
            body = body[..MaxErrorBodyLength] + "…";
        }

        return new HttpRequestException(
            $"Eureka server {ServiceUrls.Redact(serviceUrl)} refused {method} {path} with {(int)response.StatusCode} {response.ReasonPhrase}: {(body.Length == 0 ? "(no body)" : body)}",
            inner: null,
            response.StatusCode);
    }

    private EurekaInstance Compose()
    {
        var o = _options.Value;
        var port = o.Port ?? _address.ListeningPort(Uri.UriSchemeHttp);
        if (port is null && o.SecurePort is null)
        {
            throw new InvalidOperationException(
                $"The server does not listen on http, so the port to register with Eureka is unknown; set {EurekaOptions.SectionName}:{nameof(EurekaOptions.Port)} or {EurekaOptions.SectionName}:{nameof(EurekaOptions.SecurePort)}.");
        }

        var appName = string.IsNullOrWhiteSpace(o.AppName) ? _services.GetService<IHostEnvironment>()?.ApplicationName : o.AppName;
        if (string.IsNullOrWhiteSpace(appName))
        {
            throw new InvalidOperationException(
                $"The host has no application name to register with Eureka; set {EurekaOptions.SectionName}:{nameof(EurekaOptions.AppName)}.");
        }

        var app = appName.ToUpperInvariant();
        var appLower = appName.ToLowerInvariant();
        var ipAddress = o.IpAddress ?? InstanceAddress.IpAddress;
        var hostName = o.PreferIpAddress ? ipAddress : o.HostName ?? InstanceAddress.HostName;
        var mainPort = port ?? o.SecurePort!.Value;
        var lifecycle = _services.GetRequiredService<IOptions<GracefulLifecycleOptions>>().Value;

        return new EurekaInstance
        {
            App = app,
            InstanceId = o.InstanceId ?? string.Create(CultureInfo.InvariantCulture, $"{hostName}:{appLower}:{mainPort}"),
            HostName = hostName,
            IpAddress = ipAddress,
            Port = port,
            SecurePort = o.SecurePort,
            VipAddress = o.VipAddress ?? appLower,
            SecureVipAddress = o.SecureVipAddress ?? appLower,
            RenewalIntervalInSeconds = o.LeaseRenewalIntervalInSeconds,
            DurationInSeconds = o.LeaseExpirationDurationInSeconds,
            Metadata = new Dictionary<string, string>(o.Metadata, StringComparer.Ordinal),
            HealthCheckPath = lifecycle.ReadinessPath,
            StatusPagePath = lifecycle.LivenessPath,
            LastDirtyTimestamp = _time.GetUtcNow().ToUnixTimeMilliseconds(),
        };
    }

    /// <summary>
    /// Sends the request to the server that answered last, failing over to the next ones in order on a connection
    /// error, a timeout or a 5xx answer. Returns any other answer with the server that gave it.
    /// </summary>
    private async Task<(HttpResponseMessage Response, Uri ServiceUrl)> SendAsync(
        HttpMethod method, string path, byte[]? body, CancellationToken cancellationToken, TimeSpan? attemptTimeout = null)
    {
        var urls = Urls;
        if (urls.Length == 0)
        {
            throw new InvalidOperationException($"{EurekaOptions.SectionName}:{nameof(EurekaOptions.ServiceUrl)} names no Eureka server.");
        }

        var client = _httpClients.CreateClient(HttpClientName);
        var timeout = attemptTimeout ?? _options.Value.RequestTimeout;
        var start = Volatile.Read(ref _preferred) % urls.Length;
        var failures = new List<Exception>();
        for (var attempt = 0; attempt < urls.Length; attempt++)
        {
            var index = (start + attempt) % urls.Length;
            var serviceUrl = urls[index];
            string reason;
            using (var request = CreateRequest(method, new Uri(serviceUrl, path), body))
            using (var callTimeout = new CancellationTokenSource(timeout, _time))
            using (var call = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, callTimeout.Token))
            {
                try
                {
                    var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, call.Token).ConfigureAwait(false);
                    if ((int)response.StatusCode < 500)
                    {
                        if (index != start)
                        {
                            Volatile.Write(ref _preferred, index);
                            Log.ServiceUrlSwitched(_logger, ServiceUrls.Redact(serviceUrl));
                        }

                        return (response, serviceUrl);
                    }

                    reason = $"{(int)response.StatusCode} {response.ReasonPhrase}";
                    response.Dispose();
                    failures.Add(new HttpRequestException($"Eureka server {ServiceUrls.Redact(serviceUrl)} answered {method} {path} with {reason}", null, response.StatusCode));
                }
                catch (OperationCanceledException ex) when (callTimeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    reason = $"no answer within {timeout}";
                    failures.Add(new TimeoutException($"Eureka server {ServiceUrls.Redact(serviceUrl)} gave no answer to {method} {path} within {timeout}", ex));
                }
                catch (Exception ex) when (ex is HttpRequestException or SocketException)
                {
                    // SocketsHttpHandler lets a bare SocketException escape when the server resets a new connection
                    // at once (a server going down with connections still queued): a failure to reach it all the same.
                    reason = ex is SocketException socket ? $"{socket.SocketErrorCode} ({socket.Message})" : ex.Message;
                    var message = $"Eureka server {ServiceUrls.Redact(serviceUrl)} could not be reached for {method} {path}: {reason}";
                    failures.Add(ex is HttpRequestException http
                        ? new HttpRequestException(http.HttpRequestError, message, ex, http.StatusCode)
                        : new HttpRequestException(HttpRequestError.ConnectionError, message, ex));
                }
            }

            if (attempt + 1 < urls.Length)
            {
                Log.FailingOver(_logger, ServiceUrls.Redact(serviceUrl), method.Method, path, reason, ServiceUrls.Redact(urls[(index + 1) % urls.Length]));
            }
        }

        if (failures.Count == 1)
        {
            throw failures[0];
        }

        throw new HttpRequestException(
            $"None of the {urls.Length} Eureka servers answered {method} {path}: {string.Join("; ", failures.Select(f => f.Message))}",
            new AggregateException(failures));
    }

    private static HttpRequestMessage CreateRequest(HttpMethod method, Uri uri, byte[]? body)
    {
        var request = new HttpRequestMessage(method, uri);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        return request;
    }
}
