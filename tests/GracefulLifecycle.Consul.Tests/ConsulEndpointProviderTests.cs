using System.Diagnostics;
using System.Text;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.TestSupport.Consul;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace GracefulLifecycle.Consul.Tests;

/// <summary>
/// The Consul endpoint provider against the fake agent (its blocking queries modelled on the real agent's, see
/// <see cref="FakeConsulAgent"/>), read through the real resolver of Microsoft.Extensions.ServiceDiscovery.
/// </summary>
public sealed class ConsulEndpointProviderTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly HttpClient _client = new();
    private FakeConsulAgent _agent = null!;

    public async Task InitializeAsync() => _agent = await FakeConsulAgent.StartAsync();

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _agent.DisposeAsync();
    }

    [Fact]
    public async Task Resolver_DropsADeregisteredInstance_WithinTensOfMilliseconds_ThroughABlockingQuery_AndTheChangeTokenFires()
    {
        await RegisterAsync("catalog-1", "catalog", 5001);
        await RegisterAsync("catalog-2", "catalog", 5002);
        await RegisterAsync("orders-1", "orders", 5003);
        await using var consumer = Consumer();

        var source = await consumer.Resolver.GetEndpointsAsync("http://catalog", CancellationToken.None);
        Assert.Equal(["127.0.0.1:5001", "127.0.0.1:5002"], await consumer.EndpointsAsync("http://catalog"));
        await Eventually.TrueAsync(() => BlockingQueries().Any(), "the provider waits on a blocking query");

        var clock = Stopwatch.StartNew();
        await PutAsync("v1/agent/service/deregister/catalog-1");
        await Eventually.TrueAsync(() => source.ChangeToken.HasChanged, "the change token fires", TimeSpan.FromSeconds(2));
        var fired = clock.Elapsed;
        Assert.Equal(["127.0.0.1:5002"], await consumer.EndpointsAsync("http://catalog"));
        Assert.Equal(["127.0.0.1:5003"], await consumer.EndpointsAsync("http://orders"));
        Measurements.Record(output.WriteLine, "Consul provider: deregistered -> change token fired (blocking query, fake agent)", fired.TotalMilliseconds);

        // Each blocking query asked for the index of the answer before it, with the provider's wait.
        var query = BlockingQueries().Last().Query;
        Assert.Contains("passing", query, StringComparison.Ordinal);
        Assert.Contains("wait=60s", query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HttpClient_WithServiceDiscovery_CallsPassingInstancesOnly_AndStopsCallingOneInMaintenance()
    {
        await RegisterAsync("catalog-1", "catalog", 5001);
        await RegisterAsync("catalog-2", "catalog", 5002);
        await using var consumer = Consumer(before: s => s.AddServiceDiscovery());

        Assert.Equal(["127.0.0.1:5001", "127.0.0.1:5002"], (await consumer.CallAsync("http://catalog/items", 10)).Distinct().Order());

        // Critical, not deregistered: ?passing leaves it out.
        await PutAsync("v1/agent/service/maintenance/catalog-1?enable=true&reason=test");
        await Eventually.TrueAsync(() => consumer.Log.Lines.Any(l => l.Contains("[131]", StringComparison.Ordinal)), "the change reaches the provider", TimeSpan.FromSeconds(2));
        await Eventually.TrueAsync(() => consumer.CallAsync("http://catalog/items", 4).Result.All(to => to == "127.0.0.1:5002"), "calls follow the new list", TimeSpan.FromSeconds(2));
        Assert.All(await consumer.CallAsync("http://catalog/items", 10), to => Assert.Equal("127.0.0.1:5002", to));
    }

    [Fact]
    public async Task AgentDown_KeepsTheLastList_LogsOnce_AndFollowsChangesAgainWhenItIsBack()
    {
        await RegisterAsync("catalog-1", "catalog", 5001);
        await RegisterAsync("catalog-2", "catalog", 5002);
        await using var consumer = Consumer();
        var source = await consumer.Resolver.GetEndpointsAsync("http://catalog", CancellationToken.None);
        Assert.Equal(2, source.Endpoints.Count);

        await _agent.StopAsync();
        await Eventually.TrueAsync(() => Count(consumer, "[129]") == 1, "the outage is logged", TimeSpan.FromSeconds(10));

        var outage = Stopwatch.StartNew();
        while (outage.Elapsed < TimeSpan.FromSeconds(1.5))
        {
            Assert.Equal(["127.0.0.1:5001", "127.0.0.1:5002"], await consumer.EndpointsAsync("http://catalog"));
            Assert.False(source.ChangeToken.HasChanged);
            await Task.Yield();
        }

        Assert.Equal(1, Count(consumer, "[129]"));

        await _agent.RestartAsync();
        await PutAsync("v1/agent/service/deregister/catalog-1");
        await Eventually.TrueAsync(() => source.ChangeToken.HasChanged, "the change after the outage fires the token", TimeSpan.FromSeconds(10));
        Assert.Equal(["127.0.0.1:5002"], await consumer.EndpointsAsync("http://catalog"));
        Assert.Equal(1, Count(consumer, "[130]"));
    }

    [Fact]
    public async Task AnIndexGoingBackwards_ReadsTheWholeListAgain_SoLaterChangesStillArrive()
    {
        await RegisterAsync("catalog-1", "catalog", 5001);
        await RegisterAsync("catalog-2", "catalog", 5002);
        await using var consumer = Consumer();
        var source = await consumer.Resolver.GetEndpointsAsync("http://catalog", CancellationToken.None);
        await Eventually.TrueAsync(() => BlockingQueries().Any(), "the provider waits on a blocking query");

        _agent.ResetIndex(2);
        await Eventually.TrueAsync(() => Count(consumer, "[132]") == 1, "the reset is noticed");

        // The next index (3) is below the one the provider held before the restore: without the reset it would wait.
        await PutAsync("v1/agent/service/deregister/catalog-1");
        await Eventually.TrueAsync(() => source.ChangeToken.HasChanged, "the change after the restore fires the token", TimeSpan.FromSeconds(2));
        Assert.Equal(["127.0.0.1:5002"], await consumer.EndpointsAsync("http://catalog"));
    }

    [Fact]
    public async Task APollingConsumer_ReadsTheListAtItsInterval_WithoutBlocking()
    {
        await RegisterAsync("catalog-1", "catalog", 5001);
        await RegisterAsync("catalog-2", "catalog", 5002);
        await using var consumer = Consumer(o => o.ConsumerRefreshInterval = TimeSpan.FromMilliseconds(200));
        Assert.Equal(2, (await consumer.EndpointsAsync("http://catalog")).Length);

        await PutAsync("v1/agent/service/deregister/catalog-1");
        await Eventually.TrueAsync(() => consumer.EndpointsAsync("http://catalog").Result is ["127.0.0.1:5002"], "the next poll drops it", TimeSpan.FromSeconds(3));
        Assert.Empty(BlockingQueries());
    }

    [Fact]
    public async Task AConsumerThatRegistersNothing_NeedsOnlyTheAgentAndToken_FromTheSharedSection()
    {
        await using var secured = await FakeConsulAgent.StartAsync(aclToken: "s3cret");
        using (var request = new HttpRequestMessage(HttpMethod.Put, new Uri(secured.Address, "v1/agent/service/register")))
        {
            request.Headers.Add("X-Consul-Token", "s3cret");
            request.Content = new StringContent("""{"ID":"catalog-1","Name":"catalog","Address":"127.0.0.1","Port":5001}""", Encoding.UTF8, "application/json");
            (await _client.SendAsync(request)).EnsureSuccessStatusCode();
        }

        await using var consumer = ResolverClient.Create(
            s => s.AddConsulServiceEndpointProvider(),
            s => s.AddSingleton<IConfiguration>(Configuration(new()
            {
                ["GracefulLifecycle:Consul:Address"] = secured.Address.ToString(),
                ["GracefulLifecycle:Consul:Token"] = "s3cret",
            })));

        Assert.Equal(["127.0.0.1:5001"], await consumer.EndpointsAsync("http://catalog"));
    }

    [Theory]
    [InlineData("Address", "consul:8500", "GracefulLifecycle:Consul:Address must be an absolute http or https URL such as http://127.0.0.1:8500 (was 'consul:8500')")]
    [InlineData("Token", " ", "GracefulLifecycle:Consul:Token must not be blank; remove it to send no token")]
    [InlineData("ConsumerRefreshInterval", "-00:00:01", "GracefulLifecycle:Consul:ConsumerRefreshInterval must not be negative (was -00:00:01); zero follows the service with blocking queries")]
    [InlineData("RequestTimeout", "00:00:00", "GracefulLifecycle:Consul:RequestTimeout must be greater than zero (was 00:00:00)")]
    public async Task InvalidOptions_FailNamingTheKeyAndTheValue(string key, string value, string message)
    {
        await using var consumer = ResolverClient.Create(
            s => s.AddConsulServiceEndpointProvider(),
            s => s.AddSingleton<IConfiguration>(Configuration(new() { ["GracefulLifecycle:Consul:" + key] = value })));

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => consumer.EndpointsAsync("http://catalog"));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00:00:00", 1000, true)]
    [InlineData("00:00:05", 6000, false)]
    public async Task OneConsumerRefreshInterval_SetsTheProvidersReadsAndTheRegistrationsDelay(string interval, int delayMs, bool blocks)
    {
        // Immediate: the consumers list passing instances only and keep no load-balancer cache, as the resolver does.
        var settings = new Dictionary<string, string?>
        {
            ["GracefulLifecycle:Consul:Address"] = _agent.Address.ToString(),
            ["GracefulLifecycle:Consul:ConsumerProfile"] = "Immediate",
            ["GracefulLifecycle:Consul:ConsumerRefreshInterval"] = interval,
        };
        using var registering = ConfiguredAdapter.Build(b => b.AddConsul(), settings);
        Assert.Equal(TimeSpan.FromMilliseconds(delayMs), registering.GetRequiredService<IServiceRegistry>().PropagationDelay.Total);

        await RegisterAsync("catalog-1", "catalog", 5001);
        await using var consumer = ResolverClient.Create(s => s.AddConsulServiceEndpointProvider(), s => s.AddSingleton<IConfiguration>(Configuration(settings)));
        Assert.Equal(["127.0.0.1:5001"], await consumer.EndpointsAsync("http://catalog"));
        if (blocks)
        {
            await Eventually.TrueAsync(() => BlockingQueries().Any(), "the provider follows the service with blocking queries");
        }
        else
        {
            await Eventually.TrueAsync(() => _agent.CallsTo("GET", "/v1/health/service/catalog").Count >= 2, "the provider reads the list again");
            Assert.Empty(BlockingQueries());
        }
    }

    private static IConfiguration Configuration(Dictionary<string, string?> settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

    private static int Count(ResolverClient consumer, string id) => consumer.Log.Lines.Count(l => l.Contains(id, StringComparison.Ordinal));

    private IEnumerable<AgentCall> BlockingQueries() =>
        _agent.CallsTo("GET", "/v1/health/service/").Where(c => c.Query.Contains("index=", StringComparison.Ordinal));

    private ResolverClient Consumer(Action<ConsulEndpointProviderOptions>? configure = null, Action<IServiceCollection>? before = null) =>
        ResolverClient.Create(
            s => s.AddConsulServiceEndpointProvider(o =>
            {
                o.Address = _agent.Address.ToString();
                configure?.Invoke(o);
            }),
            before);

    private async Task RegisterAsync(string id, string name, int port) =>
        await PutAsync("v1/agent/service/register", $$$"""{"ID":"{{{id}}}","Name":"{{{name}}}","Address":"127.0.0.1","Port":{{{port}}}}""");

    private async Task PutAsync(string path, string? body = null)
    {
        using var content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await _client.PutAsync(new Uri(_agent.Address, path), content);
        response.EnsureSuccessStatusCode();
    }
}
