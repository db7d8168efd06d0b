using System.Net;
using GracefulLifecycle.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Consul;

/// <summary>
/// Registers the instance with the local Consul agent through its HTTP API: a service with HTTP checks on the
/// readiness and liveness endpoints, verified with <c>GET /v1/agent/service/{id}</c> and removed with
/// <c>PUT /v1/agent/service/deregister/{id}</c>. The lifecycle decides when each call is made.
/// </summary>
internal sealed class ConsulRegistry : IServiceRegistry
{
    /// <summary>The name of the <see cref="HttpClient"/> the adapter uses; configure it to add handlers or TLS settings.</summary>
    public const string HttpClientName = "GracefulLifecycle.Consul";

    private const string TokenHeader = "X-Consul-Token";

    private readonly IOptions<ConsulOptions> _options;
    private readonly ILogger _logger;
    private readonly RegistryTransport _transport;
    private volatile string? _serviceId;

    public ConsulRegistry(IHttpClientFactory httpClients, IOptions<ConsulOptions> options, TimeProvider time, ILogger<ConsulRegistry> logger)
    {
        _options = options;
        _logger = logger;
        _transport = new RegistryTransport(
            "Consul agent",
            () => httpClients.CreateClient(HttpClientName),
            RegistryUrls.Parse(options.Value.Address, out _),
            time,
            () => _options.Value.RequestTimeout,
            new RegistryTransportLog
            {
                CallCompleted = (method, path, status, elapsed) => Log.CallCompleted(logger, method, path, status, elapsed),
            },
            request =>
            {
                if (_options.Value.Token is { } token)
                {
                    request.Headers.TryAddWithoutValidation(TokenHeader, token);
                }
            });
    }

    public string Name => "Consul";

    /// <summary>
    /// Gets <see cref="ConsulOptions.VisibilityDelay"/>, or else the propagation delay for consumers that list critical
    /// instances (Spring Cloud), and zero for those that list passing ones only: the check follows readiness, so they see
    /// the instance at the first passing check, and a wait before readiness passes would only delay it.
    /// </summary>
    public TimeSpan VisibilityDelay => _options.Value.VisibilityDelay ??
        (_options.Value.ConsumerProfile == ConsulConsumerProfile.Immediate ? TimeSpan.Zero : PropagationDelay.Total);

    /// <summary>
    /// Gets the chain from the deregistration to the last consumer that may still call: no registry term (the agent
    /// syncs the catalog before it answers) + the consumers' refresh + their load balancer's cache + the margin.
    /// </summary>
    public PropagationDelay PropagationDelay
    {
        get
        {
            var o = _options.Value;
            return ConsumerChain.Create(
                ConsulOptions.SectionName,
                o.ConsumerProfile,
                (o.ConsumerRefreshInterval, o.ConsumerRefreshIntervalIsSet),
                (o.LoadBalancerCacheTtl, o.LoadBalancerCacheTtlIsSet),
                o.PropagationMargin);
        }
    }

    public TimeSpan RenewalInterval => _options.Value.RenewalInterval;

    /// <summary>Gets the ID of the service last sent to the agent, until it is deregistered.</summary>
    public string? ServiceId => _serviceId;

    /// <summary>Resolves the service definition as it would be registered for <paramref name="instance"/>.</summary>
    public ConsulServiceDefinition CreateDefinition(ServiceInstance instance) => ConsulServiceDefinition.Create(
        _options.Value,
        instance.ApplicationName,
        instance.GetPort(Uri.UriSchemeHttp),
        instance.HostName,
        instance.IpAddress,
        instance.ReadinessPath,
        instance.LivenessPath);

    public async Task RegisterAsync(ServiceInstance instance, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var definition = CreateDefinition(instance);
        _serviceId = definition.Id;
        Log.Registering(
            _logger, definition.Name, definition.Id, definition.Address, definition.Port, AgentAddress, definition.CheckUrl, definition.CheckInterval);

        var answer = await _transport.SendAsync(HttpMethod.Put, "v1/agent/service/register?replace-existing-checks=true", definition.ToJson(), cancellationToken)
            .ConfigureAwait(false);
        EnsureSuccess(answer);
    }

    public async Task<bool> RenewAsync(CancellationToken cancellationToken)
    {
        if (_serviceId is not { } id)
        {
            return false;
        }

        var answer = await _transport.SendAsync(HttpMethod.Get, "v1/agent/service/" + Uri.EscapeDataString(id), null, cancellationToken).ConfigureAwait(false);
        if (answer.Status == HttpStatusCode.NotFound)
        {
            Log.ServiceUnknown(_logger, id);
            return false;
        }

        EnsureSuccess(answer);
        return true;
    }

    public async Task DeregisterAsync(DeregistrationContext context, CancellationToken cancellationToken)
    {
        if (_serviceId is not { } id)
        {
            Log.DeregisterSkipped(_logger);
            return;
        }

        Log.Deregistering(_logger, id, AgentAddress);
        var answer = await _transport.SendAsync(HttpMethod.Put, "v1/agent/service/deregister/" + Uri.EscapeDataString(id), null, cancellationToken)
            .ConfigureAwait(false);

        // Consul answers 404 for an ID it does not know (older agents answered 200): either way it is gone.
        if (answer.Status == HttpStatusCode.NotFound)
        {
            _serviceId = null;
            Log.DeregisterUnknown(_logger, id);
            return;
        }

        EnsureSuccess(answer);

        // Forgotten, so nothing more is sent for it: a late renewal must not find it registered.
        _serviceId = null;
    }

    private string AgentAddress => _options.Value.Address.TrimEnd('/');

    private void EnsureSuccess(RegistryAnswer answer)
    {
        if (answer.IsSuccess)
        {
            return;
        }

        Log.CallRefused(_logger, answer.Method.Method, "/" + answer.Path, answer.Status, RegistryTransport.Excerpt(answer.Body));
        throw _transport.Refused(answer);
    }
}
