using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Consul.Tests;

/// <summary>The agent's ACL token must never follow a redirect, and answers are not buffered without a cap.</summary>
public sealed class ConsulTrustTests
{
    [Fact]
    public void TheRegisteredHttpClient_DoesNotFollowRedirects_AndCapsWhatItBuffers()
    {
        var services = new ServiceCollection();
        services.AddGracefulLifecycle().AddConsul();
        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptionsMonitor<HttpClientFactoryOptions>>().Get(ConsulRegistry.HttpClientName);
        var builder = new Builder(provider);
        foreach (var action in options.HttpMessageHandlerBuilderActions)
        {
            action(builder);
        }

        using var client = new HttpClient(new HttpClientHandler());
        foreach (var action in options.HttpClientActions)
        {
            action(client);
        }

        Assert.False(Assert.IsType<SocketsHttpHandler>(builder.PrimaryHandler).AllowAutoRedirect);
        Assert.Equal(64 * 1024, client.MaxResponseContentBufferSize);
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
