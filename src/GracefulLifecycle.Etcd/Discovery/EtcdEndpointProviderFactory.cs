using GracefulLifecycle.Discovery;
using GracefulLifecycle.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Etcd;

/// <summary>The etcd endpoint provider: one <see cref="EtcdEndpointFeed"/> per service name.</summary>
internal sealed class EtcdEndpointProviderFactory : RegistryEndpointProviderFactory
{
    private readonly EtcdEndpointProviderOptions _options;
    private readonly IHttpClientFactory _httpClients;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Uri[] _servers;

    public EtcdEndpointProviderFactory(
        IOptions<EtcdEndpointProviderOptions> options, IHttpClientFactory httpClients, ILogger<EtcdEndpointProviderFactory> logger, TimeProvider time)
    {
        _options = options.Value;
        _httpClients = httpClients;
        _logger = logger;
        _time = time;
        _servers = RegistryUrls.Parse(_options.Endpoints, out _);
    }

    protected override string RegistryName => "etcd";

    protected override EndpointFeed CreateFeed(string serviceName) => new EtcdEndpointFeed(
        serviceName,
        _options,
        () => _httpClients.CreateClient(EtcdRegistry.HttpClientName),
        _servers,
        _logger,
        _time);
}
