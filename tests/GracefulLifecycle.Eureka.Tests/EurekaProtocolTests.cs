using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using GracefulLifecycle.Eureka.Tests.Infrastructure;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.TestSupport.Eureka;

namespace GracefulLifecycle.Eureka.Tests;

/// <summary>The adapter's own protocol against fake Eureka servers on real sockets: payloads, answers, failover, errors.</summary>
public sealed class EurekaProtocolTests : IAsyncLifetime
{
    private readonly EurekaTestBed _bed = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _bed.DisposeAsync().AsTask();

    [Fact]
    public async Task Register_SendsAnInstanceInfoTheServerAccepts()
    {
        var server = await _bed.ServerAsync();
        var h = _bed.Harness(o =>
        {
            o.ServiceUrl = server.ServiceUrl;
            o.HostName = "orders-7f9c";
            o.IpAddress = "10.1.2.3";
            o.SecurePort = 8443;
            o.Metadata["zone"] = "eu-1";
        });

        await h.Registry<EurekaRegistry>().RegisterAsync(h.Services, CancellationToken.None);

        var post = Assert.Single(server.Calls);
        Assert.Equal("POST apps/ORDERS -> 204", post.ToString());
        var instance = (JsonObject)JsonNode.Parse(post.Body)!["instance"]!;
        Assert.Equal("orders-7f9c:orders:8080", Text(instance, "instanceId"));
        Assert.Equal("orders-7f9c", Text(instance, "hostName"));
        Assert.Equal("ORDERS", Text(instance, "app"));
        Assert.Equal("10.1.2.3", Text(instance, "ipAddr"));
        Assert.Equal("UP", Text(instance, "status"));
        Assert.Equal("UNKNOWN", Text(instance, "overriddenStatus"));
        Assert.Equal(8080, instance["port"]!["$"]!.GetValue<int>());
        Assert.Equal("true", instance["port"]!["@enabled"]!.GetValue<string>());
        Assert.Equal(8443, instance["securePort"]!["$"]!.GetValue<int>());
        Assert.Equal("true", instance["securePort"]!["@enabled"]!.GetValue<string>());
        Assert.Equal(1, instance["countryId"]!.GetValue<int>());
        Assert.Equal("com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo", instance["dataCenterInfo"]!["@class"]!.GetValue<string>());
        Assert.Equal("MyOwn", instance["dataCenterInfo"]!["name"]!.GetValue<string>());
        Assert.Equal(1, instance["leaseInfo"]!["renewalIntervalInSecs"]!.GetValue<int>());
        Assert.Equal(3, instance["leaseInfo"]!["durationInSecs"]!.GetValue<int>());
        Assert.Equal("eu-1", instance["metadata"]!["zone"]!.GetValue<string>());
        Assert.Equal("http://orders-7f9c:8080/", Text(instance, "homePageUrl"));
        Assert.Equal("http://orders-7f9c:8080/health", Text(instance, "statusPageUrl"));
        Assert.Equal("http://orders-7f9c:8080/ifready", Text(instance, "healthCheckUrl"));
        Assert.Equal("https://orders-7f9c:8443/ifready", Text(instance, "secureHealthCheckUrl"));
        Assert.Equal("orders", Text(instance, "vipAddress"));
        Assert.Equal("orders", Text(instance, "secureVipAddress"));
        var now = h.Time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        Assert.Equal(now, Text(instance, "lastUpdatedTimestamp"));
        Assert.Equal(now, Text(instance, "lastDirtyTimestamp"));
        Assert.NotNull(server.Instance("ORDERS", "orders-7f9c:orders:8080"));
    }

    [Fact]
    public async Task Register_PreferIpAddress_RegistersTheIpAsHostName_AndDefaultsTheAppToTheHostEnvironment()
    {
        var server = await _bed.ServerAsync();
        var h = _bed.Harness(
            o =>
            {
                o.ServiceUrl = server.ServiceUrl;
                o.AppName = null;
                o.HostName = "ignored-when-preferring-ip";
                o.IpAddress = "10.1.2.3";
                o.PreferIpAddress = true;
            },
            applicationName: "Billing.Api");

        await h.Registry<EurekaRegistry>().RegisterAsync(h.Services, CancellationToken.None);

        var instance = (JsonObject)JsonNode.Parse(Assert.Single(server.Calls).Body)!["instance"]!;
        Assert.Equal("POST", server.Calls[0].Method);
        Assert.Equal("apps/BILLING.API", server.Calls[0].Path);
        Assert.Equal("10.1.2.3", Text(instance, "hostName"));
        Assert.Equal("10.1.2.3:billing.api:8080", Text(instance, "instanceId"));
        Assert.Equal("billing.api", Text(instance, "vipAddress"));
        Assert.Equal("false", instance["securePort"]!["@enabled"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(true, "fd00::1:5", "[fd00::1:5]")]
    [InlineData(false, "2001:db8::7", "[2001:db8::7]")]
    [InlineData(false, "[2001:db8::7]", "[2001:db8::7]")]
    [InlineData(true, "10.1.2.3", "10.1.2.3")]
    public async Task Register_AnIpv6Literal_IsBracketedInTheUrls_AndBareInHostNameAndIpAddr(bool preferIpAddress, string address, string inUrl)
    {
        var server = await _bed.ServerAsync();
        var h = _bed.Harness(o =>
        {
            o.ServiceUrl = server.ServiceUrl;
            o.PreferIpAddress = preferIpAddress;
            o.IpAddress = preferIpAddress ? address : "10.9.9.9";
            o.HostName = preferIpAddress ? null : address;
            o.SecurePort = 8443;
        });

        await h.Registry<EurekaRegistry>().RegisterAsync(h.Services, CancellationToken.None);

        var instance = (JsonObject)JsonNode.Parse(Assert.Single(server.Calls).Body)!["instance"]!;
        Assert.Equal(204, server.Calls[0].StatusCode);
        Assert.Equal(address, Text(instance, "hostName"));
        Assert.Equal($"http://{inUrl}:8080/", Text(instance, "homePageUrl"));
        Assert.Equal($"http://{inUrl}:8080/health", Text(instance, "statusPageUrl"));
        Assert.Equal($"http://{inUrl}:8080/ifready", Text(instance, "healthCheckUrl"));
        Assert.Equal($"https://{inUrl}:8443/ifready", Text(instance, "secureHealthCheckUrl"));
        Assert.True(Uri.TryCreate(Text(instance, "healthCheckUrl"), UriKind.Absolute, out var url) && url.Port == 8080, "the health check URL does not parse with its port");
    }

    [Fact]
    public async Task Renew_SendsStatusUpAndTheRegistrationsLastDirtyTimestamp()
    {
        var server = await _bed.ServerAsync();
        var h = _bed.Harness(o => o.ServiceUrl = server.ServiceUrl);
        await h.Registry<EurekaRegistry>().RegisterAsync(h.Services, CancellationToken.None);
        var registered = h.Time.GetUtcNow().ToUnixTimeMilliseconds();

        h.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.True(await h.Registry<EurekaRegistry>().RenewAsync(CancellationToken.None));

        var put = server.Calls[1];
        Assert.Equal("PUT", put.Method);
        Assert.Equal($"apps/ORDERS/{h.Registry<EurekaRegistry>().Instance!.InstanceId}", put.Path);
        Assert.Equal($"?status=UP&lastDirtyTimestamp={registered}", put.Query);
        Assert.Equal(200, put.StatusCode);
    }

    [Fact]
    public async Task Renew_UnknownInstance_ReturnsFalse()
    {
        var server = await _bed.ServerAsync();
        var h = _bed.Harness(o => o.ServiceUrl = server.ServiceUrl);
        await h.Registry<EurekaRegistry>().RegisterAsync(h.Services, CancellationToken.None);
        Assert.True(server.Forget(h.Registry<EurekaRegistry>().Instance!.InstanceId));

        Assert.False(await h.Registry<EurekaRegistry>().RenewAsync(CancellationToken.None));
        Assert.True(h.Logs.Contains("EurekaRegistry[104]"));
    }

    [Fact]
    public async Task Deregister_SendsOneDelete()
    {
        var server = await _bed.ServerAsync();
        var h = _bed.Harness(o => o.ServiceUrl = server.ServiceUrl);
        await h.Registry<EurekaRegistry>().RegisterAsync(h.Services, CancellationToken.None);
        var id = h.Registry<EurekaRegistry>().Instance!.InstanceId;

        await h.Registry<EurekaRegistry>().DeregisterAsync(new DeregistrationContext(TimeSpan.FromMilliseconds(1500)), CancellationToken.None);

        Assert.Equal(["POST", "DELETE"], server.Calls.Select(c => c.Method));
        Assert.Equal($"apps/ORDERS/{id}", server.Calls[1].Path);
        Assert.Null(h.Registry<EurekaRegistry>().Instance);
        Assert.Equal(200, server.Calls[1].StatusCode);
        Assert.Equal(0, server.InstanceCount);
    }

    [Fact]
    public async Task Deregister_UnknownInstance_IsNotAnError()
    {
        var server = await _bed.ServerAsync();
        var h = _bed.Harness(o => o.ServiceUrl = server.ServiceUrl);
        await h.Registry<EurekaRegistry>().RegisterAsync(h.Services, CancellationToken.None);
        server.Forget(h.Registry<EurekaRegistry>().Instance!.InstanceId);

        await h.Registry<EurekaRegistry>().DeregisterAsync(new DeregistrationContext(TimeSpan.FromMilliseconds(1500)), CancellationToken.None);

        Assert.Equal(404, server.Calls[^1].StatusCode);
        Assert.Contains(h.Logs.Lines, l => l.StartsWith("Debug", StringComparison.Ordinal) && l.Contains("EurekaRegistry[101]", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Deregister_WithoutARegistration_SendsNothing()
    {
        var server = await _bed.ServerAsync();
        var h = _bed.Harness(o => o.ServiceUrl = server.ServiceUrl);

        await h.Registry<EurekaRegistry>().DeregisterAsync(new DeregistrationContext(TimeSpan.FromMilliseconds(1500)), CancellationToken.None);

        Assert.Empty(server.Calls);
    }

    [Fact]
    public async Task Failover_FirstServerRefusesConnections_UsesTheSecondAndStartsThereNextTime()
    {
        var closed = $"http://127.0.0.1:{Ports.Closed()}/eureka/";
        var server = await _bed.ServerAsync();
        var h = _bed.Harness(o => o.ServiceUrl = $"{closed},{server.ServiceUrl}");

        await h.Registry<EurekaRegistry>().RegisterAsync(h.Services, CancellationToken.None);
        Assert.True(await h.Registry<EurekaRegistry>().RenewAsync(CancellationToken.None));
        await h.Registry<EurekaRegistry>().DeregisterAsync(new DeregistrationContext(TimeSpan.FromMilliseconds(1500)), CancellationToken.None);

        Assert.Equal(["POST", "PUT", "DELETE"], server.Calls.Select(c => c.Method));
        Assert.Single(h.Logs.Lines, l => l.Contains("EurekaRegistry[100]", StringComparison.Ordinal));
        Assert.Single(h.Logs.Lines, l => l.Contains("EurekaRegistry[102]", StringComparison.Ordinal) && l.Contains(server.ServiceUrl, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Failover_OnAConnectionResetBeforeHttpClientWrapsIt_TriesTheNextServer()
    {
        var resetting = await _bed.ServerAsync();
        var server = await _bed.ServerAsync();
        ResetConnectionHandler reset = null!;
        var h = _bed.Harness(
            o => o.ServiceUrl = $"{resetting.ServiceUrl},{server.ServiceUrl}",
            services: s => reset = ResetConnectionHandler.AddTo(s, EurekaRegistry.HttpClientName, new Uri(resetting.ServiceUrl)));

        await h.Registry<EurekaRegistry>().RegisterAsync(h.Services, CancellationToken.None);

        Assert.Equal(1, reset.Resets);
        Assert.Empty(resetting.Calls);
        Assert.Equal("POST apps/ORDERS -> 204", Assert.Single(server.Calls).ToString());
        Assert.Single(h.Logs.Lines, l => l.Contains("EurekaRegistry[100]", StringComparison.Ordinal) && l.Contains("NotConnected", StringComparison.Ordinal));
        Assert.Single(h.Logs.Lines, l => l.Contains("EurekaRegistry[102]", StringComparison.Ordinal) && l.Contains(server.ServiceUrl, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Failover_On5xx_TriesTheNextServer()
    {
        var failing = await _bed.ServerAsync();
        failing.FailWith(503);
        var server = await _bed.ServerAsync();
        var h = _bed.Harness(o => o.ServiceUrl = $"{failing.ServiceUrl},{server.ServiceUrl}");

        await h.Registry<EurekaRegistry>().RegisterAsync(h.Services, CancellationToken.None);

        Assert.Equal("POST apps/ORDERS -> 503", Assert.Single(failing.Calls).ToString());
        Assert.Equal("POST apps/ORDERS -> 204", Assert.Single(server.Calls).ToString());
    }

    [Fact]
    public async Task Failover_OnTimeout_TriesTheNextServerOnceTheRequestTimeoutPassed()
    {
        var time = new FakeTimeProvider();
        var stalled = await _bed.ServerAsync(time);
        using var hold = stalled.Hold();
        var server = await _bed.ServerAsync(time);
        var registry = _bed.Harness(
            o =>
            {
                o.ServiceUrl = $"{stalled.ServiceUrl},{server.ServiceUrl}";
                o.RequestTimeout = TimeSpan.FromSeconds(5);
            },
            time: time);

        var register = registry.Registry<EurekaRegistry>().RegisterAsync(registry.Services, CancellationToken.None);
        await Eventually.TrueAsync(() => stalled.Calls.Count == 1, "the first server received the registration");
        registry.Time.Advance(TimeSpan.FromSeconds(5) - TimeSpan.FromTicks(1));
        Assert.Empty(server.Calls);
        Assert.False(register.IsCompleted);

        registry.Time.Advance(TimeSpan.FromTicks(1));
        await Eventually.DoneAsync(register, "the registration fails over");

        Assert.Equal("POST apps/ORDERS -> 204", Assert.Single(server.Calls).ToString());
        Assert.Contains(registry.Logs.Lines, l => l.Contains("EurekaRegistry[100]", StringComparison.Ordinal) && l.Contains("no answer within 00:00:05", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Deregister_FirstServerHoldsIt_EachServerGetsItsShareOfTheBudgetTheCallCarries()
    {
        var time = new FakeTimeProvider();
        var stalled = await _bed.ServerAsync(time);
        var server = await _bed.ServerAsync(time);
        var h = _bed.Harness(
            o =>
            {
                o.ServiceUrl = $"{stalled.ServiceUrl},{server.ServiceUrl}";
                o.RequestTimeout = TimeSpan.FromSeconds(5);
            },
            time: time);
        await h.Registry<EurekaRegistry>().RegisterAsync(h.Services, CancellationToken.None);
        using var hold = stalled.Hold(c => c.Method == "DELETE");

        // 4 s for two servers: 2 s each, under the 5 s request timeout. The lifecycle's options (2 s less 500 ms, so
        // 750 ms each) are not where the figure comes from.
        var deregister = h.Registry<EurekaRegistry>().DeregisterAsync(new DeregistrationContext(TimeSpan.FromSeconds(4)), CancellationToken.None);
        await Eventually.TrueAsync(() => stalled.Calls.Any(c => c.Method == "DELETE"), "the first server received the DELETE");
        time.Advance(TimeSpan.FromSeconds(2) - TimeSpan.FromTicks(1));
        Assert.DoesNotContain(server.Calls, c => c.Method == "DELETE");

        time.Advance(TimeSpan.FromTicks(1));
        await Eventually.DoneAsync(deregister, "the DELETE fails over to the second server");

        Assert.Equal("DELETE", server.Calls[^1].Method);
    }

    [Fact]
    public async Task ClientError_IsThrownWithStatusAndBody_WithoutFailover()
    {
        var refusing = await _bed.ServerAsync();
        refusing.FailWith(400);
        var server = await _bed.ServerAsync();
        var h = _bed.Harness(o => o.ServiceUrl = $"{refusing.ServiceUrl},{server.ServiceUrl}");

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => h.Registry<EurekaRegistry>().RegisterAsync(h.Services, CancellationToken.None));

        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Contains("400", error.Message, StringComparison.Ordinal);
        Assert.Contains("injected failure 400", error.Message, StringComparison.Ordinal);
        Assert.Empty(server.Calls);
    }

    [Fact]
    public async Task EveryServerDown_ThrowsNamingEachServer()
    {
        var first = $"http://127.0.0.1:{Ports.Closed()}/eureka/";
        var failing = await _bed.ServerAsync();
        failing.FailWith(500);
        var h = _bed.Harness(o => o.ServiceUrl = $"{first},{failing.ServiceUrl}");

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => h.Registry<EurekaRegistry>().RegisterAsync(h.Services, CancellationToken.None));

        Assert.Contains(first, error.Message, StringComparison.Ordinal);
        Assert.Contains(failing.ServiceUrl, error.Message, StringComparison.Ordinal);
        Assert.Contains("500", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancellation_ByTheCaller_IsNotAFailover()
    {
        var stalled = await _bed.ServerAsync();
        using var hold = stalled.Hold();
        var server = await _bed.ServerAsync();
        var h = _bed.Harness(o => o.ServiceUrl = $"{stalled.ServiceUrl},{server.ServiceUrl}");
        using var cancel = new CancellationTokenSource();

        var register = h.Registry<EurekaRegistry>().RegisterAsync(h.Services, cancel.Token);
        await Eventually.TrueAsync(() => stalled.Calls.Count == 1, "the first server received the registration");
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => register);
        Assert.Empty(server.Calls);
    }

    [Fact]
    public async Task ServiceUrlWithoutTrailingSlash_StillCallsUnderTheBasePath()
    {
        var server = await _bed.ServerAsync();
        var h = _bed.Harness(o => o.ServiceUrl = server.ServiceUrl.TrimEnd('/'));

        await h.Registry<EurekaRegistry>().RegisterAsync(h.Services, CancellationToken.None);

        Assert.Equal("POST apps/ORDERS -> 204", Assert.Single(server.Calls).ToString());
    }

    private static string? Text(JsonObject instance, string name) => instance[name]?.GetValue<string>();
}
