using GracefulLifecycle.TestSupport;
using Microsoft.Extensions.DependencyInjection;

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
        var (primary, client) = ClientPipeline.Inspect(provider, ConsulRegistry.HttpClientName);
        using var _ = client;

        Assert.False(Assert.IsType<SocketsHttpHandler>(primary).AllowAutoRedirect);
        Assert.Equal(64 * 1024, client.MaxResponseContentBufferSize);
    }
}
