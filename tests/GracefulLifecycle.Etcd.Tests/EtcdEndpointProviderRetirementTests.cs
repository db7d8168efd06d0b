using GracefulLifecycle.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.Etcd.Tests;

/// <summary>
/// A holder of the resolver's change token that asks again only when it fires, as YARP's destination resolver does
/// (Microsoft.Extensions.ServiceDiscovery.Yarp, <c>ServiceDiscoveryDestinationResolver</c>: one
/// <c>GetEndpointsAsync</c> per reload, then the token). The resolver retires the watcher of a name it was not asked
/// for in the last 10 to 20 s (<c>ServiceEndpointResolver</c>: a cleanup every 10 s, a recent-use flag), which disposes
/// its providers; the token they handed out must fire then, or such a holder keeps its last list for good: a gateway
/// that never sees a new instance nor a leaving one after a quiet spell.
/// </summary>
public sealed class EtcdEndpointProviderRetirementTests : IAsyncLifetime
{
    private EtcdServer _etcd = null!;

    public async Task InitializeAsync() => _etcd = await EtcdServer.StartAsync();

    public async Task DisposeAsync() => await _etcd.DisposeAsync();

    [Fact]
    public async Task ResolverRetiresAQuietWatcher_TheTokenItHandedOutFires_AndAskingAgainReadsTheRegistryAfresh()
    {
        await PutInstanceAsync("a", 5001);
        var time = new FakeTimeProvider();
        await using var consumer = ResolverClient.Create(
            s => s.AddEtcdServiceEndpointProvider(o => o.Endpoints = _etcd.ClientUrl.ToString()),
            s => s.AddSingleton<TimeProvider>(time));
        var source = await consumer.Resolver.GetEndpointsAsync("http://catalog", CancellationToken.None);
        Assert.Equal("127.0.0.1:5001", ResolverClient.Describe(Assert.Single(source.Endpoints).EndPoint));

        // The first cleanup clears the recent-use flag, the second retires the watcher.
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.False(source.ChangeToken.HasChanged);
        time.Advance(TimeSpan.FromSeconds(10));
        await Eventually.TrueAsync(() => source.ChangeToken.HasChanged, "the retired watcher's token fires", TimeSpan.FromSeconds(5));

        // What changed while nobody followed the name is read when it is asked for again.
        await PutInstanceAsync("b", 5002);
        Assert.Equal(["127.0.0.1:5001", "127.0.0.1:5002"], await consumer.EndpointsAsync("http://catalog"));
    }

    private Task PutInstanceAsync(string id, int port) =>
        _etcd.PutAsync(
            $"/services/catalog/{id}",
            $$$"""{"name":"catalog","id":"{{{id}}}","address":"127.0.0.1","port":{{{port}}},"metadata":{}}""");
}
