using GracefulLifecycle.Discovery;
using GracefulLifecycle.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Eureka;

/// <summary>The Eureka endpoint provider: one <see cref="EurekaEndpointFeed"/> per application, all through one transport.</summary>
internal sealed class EurekaEndpointProviderFactory : RegistryEndpointProviderFactory
{
    private readonly EurekaEndpointProviderOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly RegistryTransport _transport;

    public EurekaEndpointProviderFactory(
        IOptions<EurekaEndpointProviderOptions> options, IHttpClientFactory httpClients, ILogger<EurekaEndpointProviderFactory> logger, TimeProvider time)
    {
        _options = options.Value;
        _logger = logger;
        _time = time;
        _transport = new RegistryTransport(
            "Eureka server",
            () => httpClients.CreateClient(EurekaRegistry.HttpClientName),
            RegistryUrls.Parse(_options.ServiceUrl, out _),
            time,
            () => _options.RequestTimeout,
            new RegistryTransportLog
            {
                FailingOver = (server, method, path, reason, next) => Log.FailingOver(logger, server, method, path, reason, next),
                ServerSwitched = server => Log.ServerSwitched(logger, server),
                CallCompleted = (method, path, status, elapsed) => Log.CallCompleted(logger, method, path, status, elapsed),
            },
            static request =>
            {
                if (request.RequestUri is { UserInfo.Length: > 0 } url)
                {
                    request.Headers.Authorization = EurekaCredentials.Header(url);
                    request.RequestUri = EurekaCredentials.WithoutUserInfo(url);
                }
            })
        {
            CredentialsPerServer = true,
            AnswerLimit = EndpointFeed.MaxListBytes,
        };
    }

    protected override string RegistryName => "Eureka";

    protected override EndpointFeed CreateFeed(string serviceName) => new EurekaEndpointFeed(serviceName, _options, _transport, _logger, _time);

    /// <summary>Eureka keeps application names in upper case (InstanceInfo.getAppName), as the registration side sends them.</summary>
    protected override string NormalizeServiceName(string serviceName) => serviceName.ToUpperInvariant();
}
