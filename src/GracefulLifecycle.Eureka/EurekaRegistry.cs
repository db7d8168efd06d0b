using System.Globalization;
using System.Net;
using GracefulLifecycle.Transport;
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
/// follows the deregistration; the delay that follows it covers the server's response cache, the consumers' fetch
/// interval and their load balancer's cache (<see cref="PropagationDelay"/>).
/// </para>
/// <para>
/// Each call starts at the server that answered last and fails over to the next one, in order, on a connection
/// error, a timeout (<see cref="EurekaOptions.RequestTimeout"/>), a redirect or a 5xx answer (the shared
/// <see cref="RegistryTransport"/>), and on a 401 or 403: each server has its own credentials, or none, in its URL
/// (<see cref="EurekaCredentials"/>), and Eureka's own client tries the next server on them too. Any other 4xx than the
/// 404 of a heartbeat or a cancel is an error with the status and the body, without failover: another server would
/// refuse the same request.
/// </para>
/// </remarks>
internal sealed class EurekaRegistry : IServiceRegistry
{
    public const string HttpClientName = "GracefulLifecycle.Eureka";

    private readonly IOptions<EurekaOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RegistryTransport _transport;
    private volatile EurekaInstance? _instance;

    public EurekaRegistry(
        IOptions<EurekaOptions> options,
        IHttpClientFactory httpClients,
        TimeProvider time,
        ILogger<EurekaRegistry> logger)
    {
        _options = options;
        _time = time;
        _logger = logger;
        _transport = new RegistryTransport(
            "Eureka server",
            () => httpClients.CreateClient(HttpClientName),
            RegistryUrls.Parse(options.Value.ServiceUrl, out _),
            time,
            () => _options.Value.RequestTimeout,
            new RegistryTransportLog
            {
                FailingOver = (server, method, path, reason, next) => Log.FailingOver(logger, server, method, path, reason, next),
                ServerSwitched = server => Log.ServerSwitched(logger, server),
                CallCompleted = (method, path, status, elapsed) => Log.CallCompleted(logger, method, path, status, elapsed),
            },
            SendCredentials)
        {
            CredentialsPerServer = true,
        };
    }

    public string Name => "Eureka";

    /// <summary>
    /// Gets <see cref="EurekaOptions.VisibilityDelay"/>, or the propagation delay when it is not set: a new instance
    /// reaches consumers through the same read-only cache, fetch and load-balancer cache as a departure.
    /// </summary>
    public TimeSpan VisibilityDelay => _options.Value.VisibilityDelay ?? PropagationDelay.Total;

    /// <summary>
    /// Gets the chain from the cancel to the last consumer that may still pick the instance: the server's read-only
    /// response cache + the consumers' registry fetch + their load balancer's cache + the margin, each term with its key.
    /// </summary>
    public PropagationDelay PropagationDelay
    {
        get
        {
            var o = _options.Value;
            const string Prefix = EurekaOptions.SectionName + ":";
            var loadBalancerSource = Prefix + nameof(EurekaOptions.LoadBalancerCacheTtl);
            if (!o.LoadBalancerCacheTtlIsSet)
            {
                loadBalancerSource += $", set by {Prefix}{nameof(EurekaOptions.ConsumerProfile)} {o.ConsumerProfile}";
            }

            return new PropagationDelay(
            [
                new(PropagationStage.Registry, TimeSpan.FromMilliseconds(o.ResponseCacheUpdateIntervalMs), Prefix + nameof(EurekaOptions.ResponseCacheUpdateIntervalMs)),
                new(PropagationStage.ConsumerRefresh, TimeSpan.FromSeconds(o.RegistryFetchIntervalSeconds), Prefix + nameof(EurekaOptions.RegistryFetchIntervalSeconds)),
                new(PropagationStage.LoadBalancerCache, o.LoadBalancerCacheTtl, loadBalancerSource),
                new(PropagationStage.Margin, o.PropagationMargin, Prefix + nameof(EurekaOptions.PropagationMargin)),
            ]);
        }
    }

    public TimeSpan RenewalInterval => TimeSpan.FromSeconds(_options.Value.LeaseRenewalIntervalInSeconds);

    /// <summary>Gets the instance last composed for registration, until it is deregistered.</summary>
    internal EurekaInstance? Instance => _instance;

    public async Task RegisterAsync(ServiceInstance instance, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var registration = Compose(instance);
        _instance = registration;
        var path = AppPath(registration);

        var answer = await _transport.SendAsync(HttpMethod.Post, path, registration.ToJson(), cancellationToken).ConfigureAwait(false);
        if (!answer.IsSuccess)
        {
            throw _transport.Refused(answer);
        }

        Log.InstanceRegistered(
            _logger, registration.InstanceId, registration.App, registration.HostName, registration.IpAddress, registration.MainPort, RegistryUrls.Redact(answer.Server));
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
        var answer = await _transport.SendAsync(HttpMethod.Put, path, jsonBody: null, cancellationToken).ConfigureAwait(false);
        if (answer.IsSuccess)
        {
            return true;
        }

        if (answer.Status == HttpStatusCode.NotFound)
        {
            Log.InstanceUnknown(_logger, RegistryUrls.Redact(answer.Server), instance.InstanceId, instance.App);
            return false;
        }

        throw _transport.Refused(answer);
    }

    public async Task DeregisterAsync(DeregistrationContext context, CancellationToken cancellationToken)
    {
        if (_instance is not { } instance)
        {
            Log.NothingToDeregister(_logger);
            return;
        }

        var answer = await _transport.SendAsync(HttpMethod.Delete, InstancePath(instance), jsonBody: null, cancellationToken, DeregistrationAttemptTimeout(context.Budget))
            .ConfigureAwait(false);
        if (answer.IsSuccess)
        {
            // Forgotten, so nothing more is sent for it: a late heartbeat would register it again.
            _instance = null;
            Log.Deregistered(_logger, instance.InstanceId, instance.App, RegistryUrls.Redact(answer.Server));
            return;
        }

        if (answer.Status == HttpStatusCode.NotFound)
        {
            // Never registered (the registration was lost on the way) or already evicted: the goal is reached.
            _instance = null;
            Log.DeregisteredUnknownInstance(_logger, instance.InstanceId, instance.App);
            return;
        }

        throw _transport.Refused(answer);
    }

    /// <summary>
    /// Each server's share of the deregistration budget (the time the lifecycle gives the call) when
    /// <see cref="EurekaOptions.RequestTimeout"/> would not let every server be tried in it: a first server that hangs
    /// must not use up the time of the one that works.
    /// </summary>
    private TimeSpan? DeregistrationAttemptTimeout(TimeSpan budget)
    {
        var servers = _transport.Servers.Count;
        if (servers < 2)
        {
            // One server: the deregistration deadline itself bounds its call.
            return null;
        }

        var share = budget / servers;
        return share > TimeSpan.Zero && share < _options.Value.RequestTimeout ? share : null;
    }

    /// <summary>
    /// Sends the credentials of the server the request goes to (its URL's user info, as Spring Cloud writes them) as
    /// basic authentication, and takes them out of the request's URL, so no handler or log down the pipeline sees them.
    /// </summary>
    private static void SendCredentials(HttpRequestMessage request)
    {
        if (request.RequestUri is { UserInfo.Length: > 0 } url)
        {
            request.Headers.Authorization = EurekaCredentials.Header(url);
            request.RequestUri = EurekaCredentials.WithoutUserInfo(url);
        }
    }

    private static string AppPath(EurekaInstance instance) => "apps/" + Uri.EscapeDataString(instance.App);

    private static string InstancePath(EurekaInstance instance) => AppPath(instance) + "/" + Uri.EscapeDataString(instance.InstanceId);

    private EurekaInstance Compose(ServiceInstance instance)
    {
        var o = _options.Value;
        var port = o.Port ?? instance.GetPort(Uri.UriSchemeHttp);
        if (port is null && o.SecurePort is null)
        {
            throw new InvalidOperationException(
                $"The server does not listen on http, so the port to register with Eureka is unknown; set {EurekaOptions.SectionName}:{nameof(EurekaOptions.Port)} or {EurekaOptions.SectionName}:{nameof(EurekaOptions.SecurePort)}.");
        }

        var appName = string.IsNullOrWhiteSpace(o.AppName) ? instance.ApplicationName : o.AppName;
        if (string.IsNullOrWhiteSpace(appName))
        {
            throw new InvalidOperationException(
                $"The host has no application name to register with Eureka; set {EurekaOptions.SectionName}:{nameof(EurekaOptions.AppName)}.");
        }

        var app = appName.ToUpperInvariant();
        var appLower = appName.ToLowerInvariant();
        var ipAddress = o.IpAddress ?? instance.IpAddress;
        var hostName = o.PreferIpAddress ? ipAddress : o.HostName ?? instance.HostName;
        var mainPort = port ?? o.SecurePort!.Value;

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
            HealthCheckPath = instance.ReadinessPath,
            StatusPagePath = instance.LivenessPath,
            LastDirtyTimestamp = _time.GetUtcNow().ToUnixTimeMilliseconds(),
        };
    }
}
