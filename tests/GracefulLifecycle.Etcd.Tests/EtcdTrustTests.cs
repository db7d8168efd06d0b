using GracefulLifecycle.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.Etcd.Tests;

/// <summary>Credentials in an endpoint URL must never follow a redirect.</summary>
public sealed class EtcdTrustTests
{
    [Fact]
    public void TheRegisteredHttpClient_DoesNotFollowRedirects()
    {
        var services = new ServiceCollection();
        services.AddGracefulLifecycle().AddEtcd();
        using var provider = services.BuildServiceProvider();
        var (primary, client) = ClientPipeline.Inspect(provider, EtcdRegistry.HttpClientName);
        using var _ = client;

        Assert.False(Assert.IsType<SocketsHttpHandler>(primary).AllowAutoRedirect);
    }
}
