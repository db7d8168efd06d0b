using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.TestSupport;

/// <summary>
/// What the HttpClientFactory configuration of a named client does to its primary handler and to the client, read
/// without sending anything: for asserting an adapter's transport settings (no redirects, a capped response buffer).
/// </summary>
public static class ClientPipeline
{
    public static (HttpMessageHandler PrimaryHandler, HttpClient Client) Inspect(IServiceProvider services, string clientName)
    {
        var options = services.GetRequiredService<IOptionsMonitor<HttpClientFactoryOptions>>().Get(clientName);
        var builder = new Builder(services);
        foreach (var action in options.HttpMessageHandlerBuilderActions)
        {
            action(builder);
        }

        var client = new HttpClient(new HttpClientHandler());
        foreach (var action in options.HttpClientActions)
        {
            action(client);
        }

        return (builder.PrimaryHandler, client);
    }

    private sealed class Builder(IServiceProvider services) : HttpMessageHandlerBuilder
    {
        public override string? Name { get; set; }

        public override HttpMessageHandler PrimaryHandler { get; set; } = new HttpClientHandler();

        public override IList<DelegatingHandler> AdditionalHandlers { get; } = [];

        public override IServiceProvider Services => services;

        public override HttpMessageHandler Build() => PrimaryHandler;
    }
}
