using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.TestSupport.Eureka;

namespace GracefulLifecycle.Eureka.Tests;

/// <summary>The fake follows the published Eureka REST contract; these tests pin what the adapter relies on.</summary>
public sealed class FakeEurekaServerTests : IAsyncLifetime
{
    private static readonly TimeSpan CacheInterval = TimeSpan.FromSeconds(30);

    private readonly FakeTimeProvider _time = new();
    private FakeEurekaServer _server = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeEurekaServer.StartAsync(_time, CacheInterval);
        _client = new HttpClient { BaseAddress = new Uri(_server.ServiceUrl) };
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Register_ValidInstance_Returns204AndStoresIt()
    {
        var status = await RegisterAsync("ORDERS", Instance());

        Assert.Equal(HttpStatusCode.NoContent, status);
        Assert.Equal("host-1", _server.Instance("ORDERS", "host-1:orders:8080")?["hostName"]?.GetValue<string>());
    }

    [Theory]
    [InlineData("hostName", "Missing hostname")]
    [InlineData("ipAddr", "Missing ip address")]
    [InlineData("app", "Missing appName")]
    [InlineData("dataCenterInfo", "Missing dataCenterInfo")]
    public async Task Register_WithoutARequiredField_Returns400(string field, string message)
    {
        var instance = Instance();
        instance.Remove(field);

        var (status, body) = await RegisterWithBodyAsync("ORDERS", instance);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(message, body);
        Assert.Equal(0, _server.InstanceCount);
    }

    [Theory]
    [InlineData("hostName")]
    [InlineData("ipAddr")]
    [InlineData("app")]
    public async Task Register_WithAnEmptyRequiredField_Returns400(string field)
    {
        var instance = Instance();
        instance[field] = string.Empty;

        Assert.Equal(HttpStatusCode.BadRequest, await RegisterAsync("ORDERS", instance));
        Assert.Equal(0, _server.InstanceCount);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public async Task Register_WithoutInstanceId_FallsBackToTheHostName(string? instanceId)
    {
        // InstanceInfo.getId(): the host name stands in for a missing or empty instanceId.
        var instance = Instance();
        instance["instanceId"] = instanceId;
        if (instanceId is null)
        {
            instance.Remove("instanceId");
        }

        Assert.Equal(HttpStatusCode.NoContent, await RegisterAsync("ORDERS", instance));

        Assert.NotNull(_server.Instance("ORDERS", "host-1"));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Put, "apps/ORDERS/host-1?status=UP&lastDirtyTimestamp=1000"));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Delete, "apps/ORDERS/host-1"));
    }

    [Fact]
    public async Task Register_WithoutInstanceIdOrHostName_Returns400MissingInstanceId()
    {
        var instance = Instance();
        instance.Remove("instanceId");
        instance.Remove("hostName");

        var (status, body) = await RegisterWithBodyAsync("ORDERS", instance);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("Missing instanceId", body);
        Assert.Equal(0, _server.InstanceCount);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("com.example.NoSuchDataCenterInfo")]
    public async Task Register_DataCenterInfoWithoutAKnownClass_Returns400CannotParse(string? type)
    {
        // Jackson cannot pick a DataCenterInfo without its type id: DiscoveryJerseyProvider answers before ApplicationResource.
        var instance = Instance();
        var dataCenter = (JsonObject)instance["dataCenterInfo"]!;
        dataCenter.Remove("@class");
        if (type is not null)
        {
            dataCenter["@class"] = type;
        }

        // The error's form follows the request's media type, compared with its parameters: JSON for application/json.
        using var json = new ByteArrayContent(Encoding.UTF8.GetBytes(new JsonObject { ["instance"] = instance.DeepClone() }.ToJsonString()));
        json.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await _client.PostAsync(new Uri("apps/ORDERS", UriKind.Relative), json);
        var (status, body) = await RegisterWithBodyAsync("ORDERS", instance);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("{\"error\": \"cannot parse request body\"}", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("<error><message>cannot parse request body</message></error>", body);
        Assert.Equal(0, _server.InstanceCount);
    }

    [Fact]
    public async Task Register_WithoutDataCenterName_Returns400()
    {
        var instance = Instance();
        ((JsonObject)instance["dataCenterInfo"]!).Remove("name");

        var (status, body) = await RegisterWithBodyAsync("ORDERS", instance);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("Missing dataCenterInfo Name", body);
    }

    [Fact]
    public async Task Register_AppDifferentFromThePath_Returns400()
    {
        var (status, body) = await RegisterWithBodyAsync("BILLING", Instance());

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("Mismatched appName, expecting BILLING but was ORDERS", body);
    }

    [Fact]
    public async Task Register_AppNameIsCaseInsensitive_AsEurekaUpperCasesBoth()
    {
        Assert.Equal(HttpStatusCode.NoContent, await RegisterAsync("orders", Instance()));
        Assert.NotNull(_server.Instance("ORDERS", "host-1:orders:8080"));
    }

    [Fact]
    public async Task Heartbeat_KnownInstance_Returns200_UnknownOrNewerTimestamp_Returns404()
    {
        Assert.Equal(HttpStatusCode.NotFound, await SendAsync(HttpMethod.Put, "apps/ORDERS/host-1:orders:8080?status=UP&lastDirtyTimestamp=1000"));

        await RegisterAsync("ORDERS", Instance());

        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Put, "apps/ORDERS/host-1:orders:8080?status=UP&lastDirtyTimestamp=1000"));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Put, "apps/ORDERS/host-1:orders:8080?status=UP&lastDirtyTimestamp=999"));
        Assert.Equal(HttpStatusCode.NotFound, await SendAsync(HttpMethod.Put, "apps/ORDERS/host-1:orders:8080?status=UP&lastDirtyTimestamp=1001"));
    }

    [Fact]
    public async Task Heartbeat_OnceTheStatusResolvesUnknown_Returns404_UntilRegisteredAgain()
    {
        const string Heartbeat = "apps/ORDERS/host-1:orders:8080?status=UP&lastDirtyTimestamp=1000";
        await RegisterAsync("ORDERS", Instance());

        // An override other than UNKNOWN keeps the lease renewable (OverrideExistsRule).
        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Put, "apps/ORDERS/host-1:orders:8080/status?value=OUT_OF_SERVICE"));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Put, Heartbeat));

        // Deleting the override without a value leaves the status UNKNOWN: renew fails, the client must register again.
        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Delete, "apps/ORDERS/host-1:orders:8080/status"));
        Assert.Equal(HttpStatusCode.NotFound, await SendAsync(HttpMethod.Put, Heartbeat));
        Assert.Equal(HttpStatusCode.NotFound, await SendAsync(HttpMethod.Put, Heartbeat));

        Assert.Equal(HttpStatusCode.NoContent, await RegisterAsync("ORDERS", Instance()));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Put, Heartbeat));
        Assert.Equal("UP", (await InstanceAsync())["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Heartbeat_DeletedOverrideWithAnUpValue_StaysRenewable()
    {
        await RegisterAsync("ORDERS", Instance());
        await SendAsync(HttpMethod.Put, "apps/ORDERS/host-1:orders:8080/status?value=OUT_OF_SERVICE");

        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Delete, "apps/ORDERS/host-1:orders:8080/status?value=UP"));

        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Put, "apps/ORDERS/host-1:orders:8080?status=UP&lastDirtyTimestamp=1000"));
    }

    [Fact]
    public async Task RegisterAgain_KeepsAKnownStatusOverride_UntilACancelDropsIt()
    {
        await RegisterAsync("ORDERS", Instance());
        await SendAsync(HttpMethod.Put, "apps/ORDERS/host-1:orders:8080/status?value=OUT_OF_SERVICE");

        // overriddenInstanceStatusMap outlives the lease it was set on: the new registration is served OUT_OF_SERVICE.
        Assert.Equal(HttpStatusCode.NoContent, await RegisterAsync("ORDERS", Instance()));
        Assert.Equal("OUT_OF_SERVICE", (await InstanceAsync())["status"]!.GetValue<string>());
        Assert.Equal("OUT_OF_SERVICE", (await InstanceAsync())["overriddenStatus"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Put, "apps/ORDERS/host-1:orders:8080?status=UP&lastDirtyTimestamp=1000"));

        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Delete, "apps/ORDERS/host-1:orders:8080"));
        Assert.Equal(HttpStatusCode.NoContent, await RegisterAsync("ORDERS", Instance()));
        Assert.Equal("UP", (await InstanceAsync())["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task HeartbeatAfterAnUnknownOverride_Is404_EvenAfterRegisteringAgain()
    {
        const string Heartbeat = "apps/ORDERS/host-1:orders:8080?status=UP&lastDirtyTimestamp=1000";
        await RegisterAsync("ORDERS", Instance());

        // An override set to UNKNOWN stays in the map, so every registration resolves UNKNOWN again until it is deleted.
        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Put, "apps/ORDERS/host-1:orders:8080/status?value=UNKNOWN"));
        Assert.Equal(HttpStatusCode.NotFound, await SendAsync(HttpMethod.Put, Heartbeat));
        Assert.Equal(HttpStatusCode.NoContent, await RegisterAsync("ORDERS", Instance()));
        Assert.Equal(HttpStatusCode.NotFound, await SendAsync(HttpMethod.Put, Heartbeat));

        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Delete, "apps/ORDERS/host-1:orders:8080/status?value=UP"));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Put, Heartbeat));
    }

    [Fact]
    public async Task Cancel_Returns200ThenUnknownReturns404()
    {
        await RegisterAsync("ORDERS", Instance());

        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Delete, "apps/ORDERS/host-1:orders:8080"));
        Assert.Equal(HttpStatusCode.NotFound, await SendAsync(HttpMethod.Delete, "apps/ORDERS/host-1:orders:8080"));
        Assert.Equal(HttpStatusCode.NotFound, await SendAsync(HttpMethod.Put, "apps/ORDERS/host-1:orders:8080?status=UP&lastDirtyTimestamp=1000"));
    }

    [Fact]
    public async Task StatusOverride_UpdatesAndRemoves_404WhenUnknown_500ForABadValue()
    {
        Assert.Equal(HttpStatusCode.NotFound, await SendAsync(HttpMethod.Put, "apps/ORDERS/host-1:orders:8080/status?value=OUT_OF_SERVICE"));
        Assert.Equal(HttpStatusCode.NotFound, await SendAsync(HttpMethod.Delete, "apps/ORDERS/host-1:orders:8080/status"));
        await RegisterAsync("ORDERS", Instance());

        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Put, "apps/ORDERS/host-1:orders:8080/status?value=OUT_OF_SERVICE"));
        Assert.Equal("OUT_OF_SERVICE", (await InstanceAsync())["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.InternalServerError, await SendAsync(HttpMethod.Put, "apps/ORDERS/host-1:orders:8080/status?value=SLEEPY"));

        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Delete, "apps/ORDERS/host-1:orders:8080/status"));
        Assert.Equal("UNKNOWN", (await InstanceAsync())["overriddenStatus"]!.GetValue<string>());
    }

    [Fact]
    public async Task GetApps_ServesTheReadOnlyCache_ARegistrationShowsOnlyAfterTheRefreshInterval()
    {
        // The first request fills the cache entry; from then on only the periodic refresh updates it.
        Assert.Empty(Applications(await GetJsonAsync("apps")));
        Assert.Equal(HttpStatusCode.NotFound, await SendAsync(HttpMethod.Get, "apps/ORDERS"));

        await RegisterAsync("ORDERS", Instance());
        Assert.Empty(Applications(await GetJsonAsync("apps")));
        Assert.Equal(HttpStatusCode.NotFound, await SendAsync(HttpMethod.Get, "apps/ORDERS"));

        _time.Advance(CacheInterval - TimeSpan.FromMilliseconds(1));
        Assert.Empty(Applications(await GetJsonAsync("apps")));

        _time.Advance(TimeSpan.FromMilliseconds(1));
        var apps = await GetJsonAsync("apps");
        var application = Assert.Single(Applications(apps));
        Assert.Equal("ORDERS", application!["name"]!.GetValue<string>());
        var instance = Assert.Single(application["instance"]!.AsArray());
        Assert.Equal("host-1:orders:8080", instance!["instanceId"]!.GetValue<string>());
        Assert.Equal("UP", instance["status"]!.GetValue<string>());
        Assert.Equal("1", apps["applications"]!["versions__delta"]!.GetValue<string>());
        Assert.Equal("UP_1_", apps["applications"]!["apps__hashcode"]!.GetValue<string>());

        var one = await GetJsonAsync("apps/ORDERS");
        Assert.Equal("ORDERS", one["application"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task GetApps_ACancelShowsOnlyAfterTheRefreshInterval()
    {
        await RegisterAsync("ORDERS", Instance());
        Assert.Single(Applications(await GetJsonAsync("apps")));

        await SendAsync(HttpMethod.Delete, "apps/ORDERS/host-1:orders:8080");
        Assert.Single(Applications(await GetJsonAsync("apps")));

        _time.Advance(CacheInterval);
        Assert.Empty(Applications(await GetJsonAsync("apps")));
    }

    [Fact]
    public async Task GetApps_WithoutTheReadOnlyCache_ShowsARegistrationAndACancelAtOnce()
    {
        await using var server = await FakeEurekaServer.StartAsync(_time, CacheInterval, useReadOnlyResponseCache: false);
        using var client = new HttpClient { BaseAddress = new Uri(server.ServiceUrl) };
        Assert.False(server.UseReadOnlyResponseCache);
        Assert.Empty(Applications(await GetJsonAsync(client, "apps")));

        using (var content = new StringContent(new JsonObject { ["instance"] = Instance() }.ToJsonString(), Encoding.UTF8, "application/json"))
        {
            Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsync(new Uri("apps/ORDERS", UriKind.Relative), content)).StatusCode);
        }

        Assert.Single(Applications(await GetJsonAsync(client, "apps")));
        Assert.Equal("ORDERS", (await GetJsonAsync(client, "apps/ORDERS"))["application"]!["name"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.OK, (await client.DeleteAsync(new Uri("apps/ORDERS/host-1:orders:8080", UriKind.Relative))).StatusCode);
        Assert.Empty(Applications(await GetJsonAsync(client, "apps")));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(new Uri("apps/ORDERS", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task RequireCredentials_AnswersACallWithoutThemOrWithOthers401_AndServesOneWithThem()
    {
        _server.RequireCredentials("eureka", "s3cret:x");

        using var anonymous = new StringContent(new JsonObject { ["instance"] = Instance() }.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await _client.PostAsync(new Uri("apps/ORDERS", UriKind.Relative), anonymous);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Basic realm=\"Realm\"", response.Headers.WwwAuthenticate.ToString());

        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(HttpMethod.Get, "apps", Basic("eureka", "s3cret")));
        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(HttpMethod.Get, "apps", "Bearer s3cret"));
        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(HttpMethod.Get, "apps", "Basic not-base64!"));
        Assert.Equal(0, _server.InstanceCount);

        // The scheme is matched ignoring case, and the password is everything after the first ':'.
        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Get, "apps", Basic("eureka", "s3cret:x")));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Get, "apps", Basic("eureka", "s3cret:x").Replace("Basic", "basic", StringComparison.Ordinal)));
        Assert.Equal([null, "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("eureka:s3cret"))], _server.Calls.Take(2).Select(c => c.Authorization));
        Assert.All(_server.Calls.SkipLast(2), c => Assert.Equal(401, c.StatusCode));
    }

    [Fact]
    public void ServiceUrlWithCredentials_PercentEncodesThem()
    {
        var url = new Uri(_server.ServiceUrlWithCredentials("eu:reka", "p@ss/w:rd"));

        Assert.Equal("eu%3Areka:p%40ss%2Fw%3Ard", url.UserInfo);
        Assert.Equal(new Uri(_server.ServiceUrl).Authority, url.Authority);
    }

    [Fact]
    public async Task Calls_AreRecordedInArrivalOrderWithPathQueryAndTime()
    {
        await RegisterAsync("ORDERS", Instance());
        _time.Advance(TimeSpan.FromSeconds(3));
        await SendAsync(HttpMethod.Put, "apps/ORDERS/host-1:orders:8080?status=UP&lastDirtyTimestamp=1000");
        await SendAsync(HttpMethod.Delete, "apps/ORDERS/host-1:orders:8080");

        var calls = _server.Calls;
        Assert.Equal(["POST apps/ORDERS -> 204", "PUT apps/ORDERS/host-1:orders:8080?status=UP&lastDirtyTimestamp=1000 -> 200", "DELETE apps/ORDERS/host-1:orders:8080 -> 200"], calls.Select(c => c.ToString()));
        Assert.Equal([0, 1, 2], calls.Select(c => c.Sequence));
        Assert.Equal(TimeSpan.FromSeconds(3), calls[1].Time - calls[0].Time);
        Assert.Contains("\"instanceId\"", calls[0].Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Drop_EvictsTheInstance_TheNextHeartbeatIs404()
    {
        await RegisterAsync("ORDERS", Instance());

        Assert.True(_server.Forget("host-1:orders:8080"));

        Assert.Equal(HttpStatusCode.NotFound, await SendAsync(HttpMethod.Put, "apps/ORDERS/host-1:orders:8080?status=UP&lastDirtyTimestamp=1000"));
        Assert.Equal(["POST", "PUT"], _server.Calls.Select(c => c.Method));
    }

    [Fact]
    public async Task Stop_RefusesConnections()
    {
        await _server.StopAsync();

        await Assert.ThrowsAsync<HttpRequestException>(() => SendAsync(HttpMethod.Get, "apps"));
    }

    [Fact]
    public async Task Delta_ListsEachChangeWithItsActionType_AndTheWholeRegistrysHashCode()
    {
        await RegisterAsync("ORDERS", Instance());
        var other = Instance();
        other["instanceId"] = "host-2:orders:8080";
        other["hostName"] = "host-2";
        await RegisterAsync("ORDERS", other);
        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Put, "apps/ORDERS/host-2:orders:8080/status?value=OUT_OF_SERVICE"));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Delete, "apps/ORDERS/host-1:orders:8080"));

        var delta = JsonNode.Parse(await _client.GetStringAsync(new Uri("apps/delta", UriKind.Relative)))!;

        var changes = Applications(delta).Single()!["instance"]!.AsArray()
            .Select(i => $"{i!["instanceId"]} {i["actionType"]} {i["status"]}").ToArray();
        Assert.Equal(
            ["host-1:orders:8080 ADDED UP", "host-2:orders:8080 ADDED UP", "host-2:orders:8080 MODIFIED OUT_OF_SERVICE", "host-1:orders:8080 DELETED UP"],
            changes);
        Assert.Equal("OUT_OF_SERVICE_1_", delta["applications"]!["apps__hashcode"]!.GetValue<string>());
    }

    [Fact]
    public async Task Delta_IsServedFromTheReadOnlyCache_SoAChangeShowsAfterTheNextRefresh()
    {
        await RegisterAsync("ORDERS", Instance());
        Assert.Single(Applications(JsonNode.Parse(await _client.GetStringAsync(new Uri("apps/delta", UriKind.Relative)))!));

        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Delete, "apps/ORDERS/host-1:orders:8080"));
        var stale = JsonNode.Parse(await _client.GetStringAsync(new Uri("apps/delta", UriKind.Relative)))!;
        Assert.Equal(["ADDED"], Applications(stale).Single()!["instance"]!.AsArray().Select(i => i!["actionType"]!.GetValue<string>()));

        _time.Advance(CacheInterval);
        var fresh = JsonNode.Parse(await _client.GetStringAsync(new Uri("apps/delta", UriKind.Relative)))!;
        Assert.Equal(["ADDED", "DELETED"], Applications(fresh).Single()!["instance"]!.AsArray().Select(i => i!["actionType"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Delta_ForgetsChangesOlderThanThreeMinutes_AtTheRetentionTimersPass()
    {
        await RegisterAsync("ORDERS", Instance());
        Assert.Equal(1, _server.RecentlyChangedCount);

        // Pruned at the first 30 s pass after it is more than 3 minutes old (3:30 after the change).
        _time.Advance(FakeEurekaServer.DeltaRetention);
        Assert.Equal(1, _server.RecentlyChangedCount);
        _time.Advance(FakeEurekaServer.DeltaRetentionTimerInterval);
        Assert.Equal(0, _server.RecentlyChangedCount);
    }

    private static JsonObject Instance() => new()
    {
        ["instanceId"] = "host-1:orders:8080",
        ["hostName"] = "host-1",
        ["app"] = "ORDERS",
        ["ipAddr"] = "10.0.0.1",
        ["status"] = "UP",
        ["port"] = new JsonObject { ["$"] = 8080, ["@enabled"] = "true" },
        ["dataCenterInfo"] = new JsonObject { ["@class"] = "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo", ["name"] = "MyOwn" },
        ["lastDirtyTimestamp"] = "1000",
    };

    private static JsonArray Applications(JsonNode apps) => apps["applications"]!["application"]!.AsArray();

    private async Task<HttpStatusCode> RegisterAsync(string app, JsonObject instance) => (await RegisterWithBodyAsync(app, instance)).Status;

    private async Task<(HttpStatusCode Status, string Body)> RegisterWithBodyAsync(string app, JsonObject instance)
    {
        using var content = new StringContent(new JsonObject { ["instance"] = instance }.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await _client.PostAsync(new Uri($"apps/{app}", UriKind.Relative), content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static string Basic(string user, string password) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password));

    private async Task<HttpStatusCode> SendAsync(HttpMethod method, string path, string? authorization = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await _client.SendAsync(request);
        return response.StatusCode;
    }

    private Task<JsonNode> GetJsonAsync(string path) => GetJsonAsync(_client, path);

    private static async Task<JsonNode> GetJsonAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    private async Task<JsonNode> InstanceAsync() => (await GetJsonAsync("apps/ORDERS/host-1:orders:8080"))["instance"]!;
}
