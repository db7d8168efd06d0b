using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.TestSupport.Eureka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace GracefulLifecycle.Eureka.Tests;

/// <summary>
/// The Eureka endpoint provider against the fake server (its <c>apps/delta</c> and read-only response cache modelled
/// on Netflix eureka-core, see <see cref="FakeEurekaServer"/>), read through the real resolver of
/// Microsoft.Extensions.ServiceDiscovery. The provider polls on the real clock; the server's cache moves only when a
/// test moves the server's clock.
/// </summary>
public sealed class EurekaEndpointProviderTests(ITestOutputHelper output) : IAsyncDisposable
{
    private readonly HttpClient _client = new();
    private readonly FakeTimeProvider _serverTime = new();
    private FakeEurekaServer? _server;

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Fact]
    public async Task ACancel_LeavesTheList_AtTheFirstDeltaPollAfterTheServersCacheRefresh_AndTheChangeTokenFires()
    {
        var server = await StartAsync(readOnlyCache: true);
        await RegisterAsync("CATALOG", "a", 5001);
        await RegisterAsync("CATALOG", "b", 5002);
        await RegisterAsync("ORDERS", "c", 5003);
        await using var consumer = Consumer();

        var source = await consumer.Resolver.GetEndpointsAsync("http://catalog", CancellationToken.None);
        Assert.Equal(["127.0.0.1:5001", "127.0.0.1:5002"], await consumer.EndpointsAsync("http://catalog"));
        await WaitForDeltaPollsAsync(1);

        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Delete, "apps/CATALOG/a"));

        // The server's read-only cache is the floor: the polls that follow still read the delta from before the cancel.
        await WaitForDeltaPollsAsync(DeltaPolls() + 2);
        Assert.False(source.ChangeToken.HasChanged);
        Assert.Equal(["127.0.0.1:5001", "127.0.0.1:5002"], await consumer.EndpointsAsync("http://catalog"));

        _serverTime.Advance(TimeSpan.FromSeconds(30));
        var clock = Stopwatch.StartNew();
        await Eventually.TrueAsync(() => source.ChangeToken.HasChanged, "the first poll after the refresh fires the token", TimeSpan.FromSeconds(5));
        Measurements.Record(output.WriteLine, "Eureka provider: server cache refreshed -> change token fired (1 s delta poll, fake server)", clock.Elapsed.TotalMilliseconds);
        Assert.Equal(["127.0.0.1:5002"], await consumer.EndpointsAsync("http://catalog"));
        Assert.Equal(["127.0.0.1:5003"], await consumer.EndpointsAsync("http://orders"));
    }

    [Fact]
    public async Task HttpClient_WithServiceDiscovery_CallsUpInstancesOnly_AndStopsCallingOneTakenOutOfService()
    {
        await StartAsync(readOnlyCache: false);
        await RegisterAsync("CATALOG", "a", 5001);
        await RegisterAsync("CATALOG", "b", 5002);
        await RegisterAsync("CATALOG", "starting", 5009, status: "STARTING");
        await using var consumer = Consumer(before: s => s.AddServiceDiscovery());

        Assert.Equal(["127.0.0.1:5001", "127.0.0.1:5002"], (await consumer.CallAsync("http://catalog/items", 10)).Distinct().Order());

        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Put, "apps/CATALOG/a/status?value=OUT_OF_SERVICE"));
        await Eventually.TrueAsync(() => Count(consumer, "[110]") == 1, "the next delta poll changes the list", TimeSpan.FromSeconds(5));
        await Eventually.TrueAsync(() => consumer.CallAsync("http://catalog/items", 4).Result.All(to => to == "127.0.0.1:5002"), "calls follow the new list", TimeSpan.FromSeconds(2));
        Assert.All(await consumer.CallAsync("http://catalog/items", 10), to => Assert.Equal("127.0.0.1:5002", to));
    }

    [Fact]
    public async Task ServerDown_KeepsTheLastList_LogsOnce_AndFollowsChangesAgainWhenItIsBack()
    {
        var server = await StartAsync(readOnlyCache: false);
        await RegisterAsync("CATALOG", "a", 5001);
        await RegisterAsync("CATALOG", "b", 5002);
        await using var consumer = Consumer();
        var source = await consumer.Resolver.GetEndpointsAsync("http://catalog", CancellationToken.None);
        Assert.Equal(2, source.Endpoints.Count);

        await server.StopAsync();
        await Eventually.TrueAsync(() => Count(consumer, "[108]") == 1, "the outage is logged", TimeSpan.FromSeconds(10));
        var outage = Stopwatch.StartNew();
        while (outage.Elapsed < TimeSpan.FromSeconds(2.5))
        {
            Assert.Equal(["127.0.0.1:5001", "127.0.0.1:5002"], await consumer.EndpointsAsync("http://catalog"));
            Assert.False(source.ChangeToken.HasChanged);
            await Task.Yield();
        }

        Assert.Equal(1, Count(consumer, "[108]"));

        await server.RestartAsync();
        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Delete, "apps/CATALOG/a"));
        await Eventually.TrueAsync(() => source.ChangeToken.HasChanged, "the change after the outage fires the token", TimeSpan.FromSeconds(10));
        Assert.Equal(["127.0.0.1:5002"], await consumer.EndpointsAsync("http://catalog"));
        Assert.Equal(1, Count(consumer, "[109]"));
    }

    [Fact]
    public async Task AConsumerThatRegistersNothing_NeedsOnlyTheServerUrl_FromTheSharedSection()
    {
        await StartAsync(readOnlyCache: false);
        await RegisterAsync("CATALOG", "a", 5001);
        await using var consumer = ResolverClient.Create(
            s => s.AddEurekaServiceEndpointProvider(),
            s => s.AddSingleton<IConfiguration>(Configuration(new() { ["GracefulLifecycle:Eureka:ServiceUrl"] = _server!.ServiceUrl })));

        Assert.Equal(["127.0.0.1:5001"], await consumer.EndpointsAsync("http://catalog"));
    }

    [Theory]
    [InlineData("ServiceUrl", "", "GracefulLifecycle:Eureka:ServiceUrl must contain at least one absolute http(s) URL")]
    [InlineData("RegistryFetchIntervalSeconds", "0", "GracefulLifecycle:Eureka:RegistryFetchIntervalSeconds must be at least 1 for a consumer, which reads the changes at that interval (was 0)")]
    [InlineData("RequestTimeout", "00:00:00", "GracefulLifecycle:Eureka:RequestTimeout must be greater than zero (was 00:00:00)")]
    public async Task InvalidOptions_FailNamingTheKeyAndTheValue(string key, string value, string message)
    {
        var settings = new Dictionary<string, string?> { ["GracefulLifecycle:Eureka:ServiceUrl"] = "http://127.0.0.1:1/eureka/", ["GracefulLifecycle:Eureka:" + key] = value };
        await using var consumer = ResolverClient.Create(s => s.AddEurekaServiceEndpointProvider(), s => s.AddSingleton<IConfiguration>(Configuration(settings)));

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => consumer.EndpointsAsync("http://catalog"));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OneRegistryFetchInterval_SetsTheProvidersPollAndTheRegistrationsDelay()
    {
        await StartAsync(readOnlyCache: false);
        var settings = new Dictionary<string, string?>
        {
            ["GracefulLifecycle:Eureka:ServiceUrl"] = _server!.ServiceUrl,
            ["GracefulLifecycle:Eureka:RegistryFetchIntervalSeconds"] = "1",
            ["GracefulLifecycle:Eureka:ConsumerProfile"] = "Steeltoe",
        };

        // The server's cache (30 s) + the consumers' 1 s poll + no load-balancer cache + the 1 s margin.
        using var registering = ConfiguredAdapter.Build(b => b.AddEureka(), settings);
        Assert.Equal(TimeSpan.FromSeconds(32), registering.GetRequiredService<IServiceRegistry>().PropagationDelay.Total);

        await RegisterAsync("CATALOG", "a", 5001);
        await using var consumer = ResolverClient.Create(s => s.AddEurekaServiceEndpointProvider(), s => s.AddSingleton<IConfiguration>(Configuration(settings)));
        Assert.Equal(["127.0.0.1:5001"], await consumer.EndpointsAsync("http://catalog"));
        var clock = Stopwatch.StartNew();
        await WaitForDeltaPollsAsync(2);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(10));
    }

    private static IConfiguration Configuration(Dictionary<string, string?> settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

    private static int Count(ResolverClient consumer, string id) => consumer.Log.Lines.Count(l => l.Contains(id, StringComparison.Ordinal));

    private int DeltaPolls() => _server!.Calls.Count(c => c.Method == "GET" && c.Path == "apps/delta" && c.StatusCode == 200);

    private Task WaitForDeltaPollsAsync(int count) =>
        Eventually.TrueAsync(() => DeltaPolls() >= count, $"{count} delta polls answered", TimeSpan.FromSeconds(10));

    private async Task<FakeEurekaServer> StartAsync(bool readOnlyCache) =>
        _server = await FakeEurekaServer.StartAsync(_serverTime, TimeSpan.FromSeconds(30), useReadOnlyResponseCache: readOnlyCache);

    private ResolverClient Consumer(Action<IServiceCollection>? before = null) =>
        ResolverClient.Create(
            s => s.AddEurekaServiceEndpointProvider(o =>
            {
                o.ServiceUrl = _server!.ServiceUrl;
                o.RegistryFetchIntervalSeconds = 1;
            }),
            before);

    private async Task RegisterAsync(string app, string id, int port, string status = "UP")
    {
        var instance = new JsonObject
        {
            ["instanceId"] = id,
            ["hostName"] = "127.0.0.1",
            ["app"] = app,
            ["ipAddr"] = "127.0.0.1",
            ["status"] = status,
            ["port"] = new JsonObject { ["$"] = port, ["@enabled"] = "true" },
            ["dataCenterInfo"] = new JsonObject { ["@class"] = "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo", ["name"] = "MyOwn" },
        };
        using var content = new StringContent(new JsonObject { ["instance"] = instance }.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await _client.PostAsync(new Uri(new Uri(_server!.ServiceUrl), $"apps/{app}"), content);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    private async Task<HttpStatusCode> SendAsync(HttpMethod method, string path)
    {
        using var response = await _client.SendAsync(new HttpRequestMessage(method, new Uri(new Uri(_server!.ServiceUrl), path)));
        return response.StatusCode;
    }
}
