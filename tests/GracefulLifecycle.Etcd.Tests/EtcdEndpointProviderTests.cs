using System.Diagnostics;
using GracefulLifecycle.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace GracefulLifecycle.Etcd.Tests;

/// <summary>
/// The etcd endpoint provider against a real etcd server, read through the real resolver of
/// Microsoft.Extensions.ServiceDiscovery: keys written the way the registration side writes them.
/// </summary>
public sealed class EtcdEndpointProviderTests(ITestOutputHelper output) : IAsyncLifetime
{
    private EtcdServer _etcd = null!;

    public async Task InitializeAsync() => _etcd = await EtcdServer.StartAsync();

    public async Task DisposeAsync() => await _etcd.DisposeAsync();

    [Fact]
    public async Task Resolver_DropsARevokedInstance_WithinTensOfMilliseconds_AndTheChangeTokenFires()
    {
        var lease = await _etcd.GrantAsync(TimeSpan.FromSeconds(30));
        await PutInstanceAsync("catalog", "a", 5001, lease);
        await PutInstanceAsync("catalog", "b", 5002);
        await PutInstanceAsync("orders", "c", 5003);
        await using var consumer = Consumer();

        var source = await consumer.Resolver.GetEndpointsAsync("http://catalog", CancellationToken.None);
        Assert.Equal(["127.0.0.1:5001", "127.0.0.1:5002"], await consumer.EndpointsAsync("http://catalog"));
        Assert.False(source.ChangeToken.HasChanged);

        var clock = Stopwatch.StartNew();
        await _etcd.RevokeAsync(lease);
        await Eventually.TrueAsync(() => source.ChangeToken.HasChanged, "the change token fires at the delete event", TimeSpan.FromSeconds(2));
        var fired = clock.Elapsed;
        Assert.Equal(["127.0.0.1:5002"], await consumer.EndpointsAsync("http://catalog"));
        Measurements.Record(output.WriteLine, "etcd provider: lease revoked -> change token fired (watch)", fired.TotalMilliseconds);

        // Only the service asked for: the other one was never part of the list.
        Assert.Equal(["127.0.0.1:5003"], await consumer.EndpointsAsync("http://orders"));
    }

    [Fact]
    public async Task HttpClient_WithServiceDiscovery_CallsOnlyRegisteredInstances_AndStopsCallingADeletedOne()
    {
        await PutInstanceAsync("catalog", "a", 5001);
        await PutInstanceAsync("catalog", "b", 5002);

        // AddServiceDiscovery() first: its pass-through provider must not answer before etcd does.
        await using var consumer = Consumer(before: s => s.AddServiceDiscovery());

        Assert.Equal(["127.0.0.1:5001", "127.0.0.1:5002"], (await consumer.CallAsync("http://catalog/items", 10)).Distinct().Order());

        await _etcd.DeleteAsync("/services/catalog/a");
        await Eventually.TrueAsync(() => consumer.Log.Lines.Any(l => l.Contains("[154]", StringComparison.Ordinal)), "the delete reaches the provider", TimeSpan.FromSeconds(2));
        await Eventually.TrueAsync(
            () => consumer.CallAsync("http://catalog/items", 4).Result.All(to => to == "127.0.0.1:5002"),
            "calls follow the resolver's new list",
            TimeSpan.FromSeconds(2));
        Assert.All(await consumer.CallAsync("http://catalog/items", 10), to => Assert.Equal("127.0.0.1:5002", to));
    }

    [Fact]
    public async Task EtcdDown_KeepsTheLastList_LogsOnce_AndFollowsChangesAgainWhenItIsBack()
    {
        await PutInstanceAsync("catalog", "a", 5001);
        await PutInstanceAsync("catalog", "b", 5002);
        await using var consumer = Consumer();
        var source = await consumer.Resolver.GetEndpointsAsync("http://catalog", CancellationToken.None);
        Assert.Equal(2, source.Endpoints.Count);

        await _etcd.StopAsync();
        await Eventually.TrueAsync(() => Unreachable(consumer) == 1, "the outage is logged", TimeSpan.FromSeconds(10));

        // Through several failed reconnects (100 ms, 200 ms, 400 ms, ...): the same list, and one line.
        var outage = Stopwatch.StartNew();
        while (outage.Elapsed < TimeSpan.FromSeconds(1.5))
        {
            Assert.Equal(["127.0.0.1:5001", "127.0.0.1:5002"], await consumer.EndpointsAsync("http://catalog"));
            Assert.False(source.ChangeToken.HasChanged);
            await Task.Yield();
        }

        Assert.Equal(1, Unreachable(consumer));

        await _etcd.RestartAsync();
        await _etcd.DeleteAsync("/services/catalog/a");
        await Eventually.TrueAsync(() => source.ChangeToken.HasChanged, "the change after the outage fires the token", TimeSpan.FromSeconds(10));
        Assert.Equal(["127.0.0.1:5002"], await consumer.EndpointsAsync("http://catalog"));
        Assert.True(consumer.Log.Lines.Any(l => l.Contains("[153]", StringComparison.Ordinal)), "the reconnection is logged");
    }

    [Fact]
    public async Task APollingConsumer_ReadsTheKeysAtItsInterval()
    {
        await PutInstanceAsync("catalog", "a", 5001);
        await PutInstanceAsync("catalog", "b", 5002);
        await using var consumer = Consumer(o => o.ConsumerRefreshInterval = TimeSpan.FromMilliseconds(200));
        Assert.Equal(2, (await consumer.EndpointsAsync("http://catalog")).Length);

        await _etcd.DeleteAsync("/services/catalog/a");
        var clock = Stopwatch.StartNew();
        await Eventually.TrueAsync(() => consumer.EndpointsAsync("http://catalog").Result is ["127.0.0.1:5002"], "the next poll drops it", TimeSpan.FromSeconds(3));
        Assert.False(consumer.Log.Lines.Any(l => l.Contains("[155]", StringComparison.Ordinal)), "a polling consumer does not watch");
        Measurements.Record(output.WriteLine, "etcd provider: key deleted -> dropped (200 ms poll)", clock.Elapsed.TotalMilliseconds);
    }

    [Fact]
    public async Task AConsumerThatRegistersNothing_NeedsOnlyTheEndpoints_FromTheSharedSection()
    {
        await PutInstanceAsync("catalog", "a", 5001);
        var settings = new Dictionary<string, string?>
        {
            ["GracefulLifecycle:Etcd:Endpoints"] = _etcd.ClientUrl.ToString(),
            ["GracefulLifecycle:Etcd:KeyPrefix"] = "/services",
        };
        await using var consumer = ResolverClient.Create(
            s => s.AddEtcdServiceEndpointProvider(),
            s => s.AddSingleton<IConfiguration>(
                new ConfigurationBuilder().AddInMemoryCollection(settings).Build()));

        Assert.Equal(["127.0.0.1:5001"], await consumer.EndpointsAsync("http://catalog"));
    }

    [Theory]
    [InlineData("Endpoints", "etcd:2379", "GracefulLifecycle:Etcd:Endpoints contains 'etcd:2379', which is not an absolute http(s) URL")]
    [InlineData("KeyPrefix", "services", "GracefulLifecycle:Etcd:KeyPrefix must start with '/' (was 'services')")]
    [InlineData("ConsumerRefreshInterval", "-00:00:01", "GracefulLifecycle:Etcd:ConsumerRefreshInterval must not be negative (was -00:00:01); zero watches the keys")]
    [InlineData("RequestTimeout", "00:00:00", "GracefulLifecycle:Etcd:RequestTimeout must be greater than zero (was 00:00:00)")]
    public async Task InvalidOptions_FailNamingTheKeyAndTheValue(string key, string value, string message)
    {
        var settings = new Dictionary<string, string?> { ["GracefulLifecycle:Etcd:" + key] = value };
        await using var consumer = ResolverClient.Create(
            s => s.AddEtcdServiceEndpointProvider(),
            s => s.AddSingleton<IConfiguration>(
                new ConfigurationBuilder().AddInMemoryCollection(settings).Build()));

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => consumer.EndpointsAsync("http://catalog"));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00:00:00", 1000, true)]
    [InlineData("00:00:05", 6000, false)]
    public async Task OneConsumerRefreshInterval_SetsTheProvidersReadsAndTheRegistrationsDelay(string interval, int delayMs, bool watches)
    {
        var settings = new Dictionary<string, string?>
        {
            ["GracefulLifecycle:Etcd:Endpoints"] = _etcd.ClientUrl.ToString(),
            ["GracefulLifecycle:Etcd:ConsumerRefreshInterval"] = interval,
        };
        using var registering = ConfiguredAdapter.Build(b => b.AddEtcd(), settings);
        Assert.Equal(TimeSpan.FromMilliseconds(delayMs), registering.GetRequiredService<IServiceRegistry>().PropagationDelay.Total);

        await PutInstanceAsync("catalog", "a", 5001);
        await using var consumer = ResolverClient.Create(
            s => s.AddEtcdServiceEndpointProvider(),
            s => s.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build()));
        Assert.Equal(["127.0.0.1:5001"], await consumer.EndpointsAsync("http://catalog"));
        if (watches)
        {
            await Eventually.TrueAsync(() => consumer.Log.Lines.Any(l => l.Contains("[155]", StringComparison.Ordinal)), "the provider watches the prefix");
        }
        else
        {
            // A polling session never opens a watch: it reads the range, then waits for its interval.
            Assert.DoesNotContain(consumer.Log.Lines, l => l.Contains("[155]", StringComparison.Ordinal));
        }
    }

    private static int Unreachable(ResolverClient consumer) => consumer.Log.Lines.Count(l => l.Contains("[152]", StringComparison.Ordinal));

    private ResolverClient Consumer(Action<EtcdEndpointProviderOptions>? configure = null, Action<IServiceCollection>? before = null) =>
        ResolverClient.Create(
            s => s.AddEtcdServiceEndpointProvider(o =>
            {
                o.Endpoints = _etcd.ClientUrl.ToString();
                configure?.Invoke(o);
            }),
            before);

    private Task PutInstanceAsync(string service, string id, int port, long lease = 0) =>
        _etcd.PutAsync(
            $"/services/{service}/{id}",
            $$$"""{"name":"{{{service}}}","id":"{{{id}}}","address":"127.0.0.1","port":{{{port}}},"metadata":{}}""",
            lease);
}
