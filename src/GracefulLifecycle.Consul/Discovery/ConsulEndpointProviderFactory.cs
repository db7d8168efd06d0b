using GracefulLifecycle.Discovery;
using GracefulLifecycle.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Consul;

/// <summary>The Consul endpoint provider: one <see cref="ConsulEndpointFeed"/> per service name, all through one agent.</summary>
internal sealed class ConsulEndpointProviderFactory : RegistryEndpointProviderFactory
{
    private const string TokenHeader = "X-Consul-Token";

    private readonly ConsulEndpointProviderOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly RegistryTransport _transport;

    public ConsulEndpointProviderFactory(
        IOptions<ConsulEndpointProviderOptions> options, IHttpClientFactory httpClients, ILogger<ConsulEndpointProviderFactory> logger, TimeProvider time)
    {
        _options = options.Value;
        _logger = logger;
        _time = time;
        var token = _options.Token;
        _transport = new RegistryTransport(
            "Consul agent",
            () => httpClients.CreateClient(ConsulRegistry.HttpClientName),
            RegistryUrls.Parse(_options.Address, out _),
            time,
            () => _options.RequestTimeout,
            new RegistryTransportLog
            {
                CallCompleted = (method, path, status, elapsed) => Log.CallCompleted(logger, method, path, status, elapsed),
            },
            request =>
            {
                if (token is not null)
                {
                    request.Headers.TryAddWithoutValidation(TokenHeader, token);
                }
            })
        {
            AnswerLimit = EndpointFeed.MaxListBytes,
        };
    }

    protected override string RegistryName => "Consul";

    protected override EndpointFeed CreateFeed(string serviceName) => new ConsulEndpointFeed(serviceName, _options, _transport, _logger, _time);
}
