using System.Net;
using System.Text;
using System.Text.Json;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.TestSupport.Consul;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace GracefulLifecycle.Consul.Tests;

/// <summary>
/// The fake agent keeps the contract the adapter is tested against, as the real agent's source shows it. Its checks
/// and reaper run on fake time here: nothing runs on its own schedule until a test moves the clock.
/// </summary>
public sealed class FakeConsulAgentTests : IAsyncLifetime
{
    private readonly HttpClient _client = new();
    private readonly FakeTimeProvider _time = new();
    private FakeConsulAgent _agent = null!;

    public async Task InitializeAsync() => _agent = await FakeConsulAgent.StartAsync(time: _time);

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _agent.DisposeAsync();
    }

    [Fact]
    public async Task Register_Returns200_AndTheServiceCanBeReadBack()
    {
        var response = await PutAsync(
            "v1/agent/service/register",
            """{"ID":"web-1","Name":"web","Tags":["a","b"],"Address":"10.0.0.5","Port":8080,"Meta":{"version":"1"},"Check":{"HTTP":"http://10.0.0.5:8080/ifready","Interval":"2s","Timeout":"500ms"}}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var read = await _client.GetAsync(new Uri(_agent.Address, "v1/agent/service/web-1"));
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        using var json = JsonDocument.Parse(await read.Content.ReadAsStringAsync());
        var root = json.RootElement;
        Assert.Equal("web-1", root.GetProperty("ID").GetString());
        Assert.Equal("web", root.GetProperty("Service").GetString());
        Assert.Equal(8080, root.GetProperty("Port").GetInt32());
        Assert.Equal("10.0.0.5", root.GetProperty("Address").GetString());
        Assert.Equal(["a", "b"], root.GetProperty("Tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("1", root.GetProperty("Meta").GetProperty("version").GetString());

        var service = _agent.Service("web-1")!;
        Assert.Equal(TimeSpan.FromSeconds(2), service.CheckInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(500), service.CheckTimeout);
        Assert.Equal("critical", service.CheckStatus);
    }

    [Fact]
    public async Task Register_WithoutAnId_UsesTheName()
    {
        var response = await PutAsync("v1/agent/service/register", """{"name":"web","port":80}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotNull(_agent.Service("web"));
    }

    [Fact]
    public async Task Register_WithoutAName_Returns400MissingServiceName()
    {
        var response = await PutAsync("v1/agent/service/register", """{"ID":"web-1","Port":80}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("Missing service name", await response.Content.ReadAsStringAsync());
        Assert.Empty(_agent.Services);
    }

    [Fact]
    public async Task Register_HttpCheckWithoutInterval_Returns400()
    {
        var response = await PutAsync("v1/agent/service/register", """{"Name":"web","Check":{"HTTP":"http://127.0.0.1/"}}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("Invalid check: Interval must be > 0", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(_agent.Services);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("""{"Name":"web","Check":{"HTTP":"http://x/","Interval":"soon"}}""")]
    public async Task Register_BodyThatDoesNotDecode_Returns400(string body)
    {
        var response = await PutAsync("v1/agent/service/register", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("Request decode failed", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10s", 60)]
    [InlineData("59s", 60)]
    [InlineData("1m0s", 60)]
    [InlineData("90s", 90)]
    public async Task DeregisterCriticalServiceAfter_BelowOneMinute_IsRaisedToOneMinute(string value, int expectedSeconds)
    {
        var response = await PutAsync(
            "v1/agent/service/register",
            $$$"""{"Name":"web","Check":{"HTTP":"http://127.0.0.1/","Interval":"1s","DeregisterCriticalServiceAfter":"{{{value}}}"}}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), _agent.Service("web")!.DeregisterCriticalServiceAfter);
    }

    [Fact]
    public async Task AclToken_CallWithoutOrWithAWrongToken_Returns403()
    {
        await using var agent = await FakeConsulAgent.StartAsync(aclToken: "secret");
        const string body = """{"Name":"web"}""";

        using var missing = await SendAsync(agent, HttpMethod.Put, "v1/agent/service/register", body, token: null);
        using var wrong = await SendAsync(agent, HttpMethod.Put, "v1/agent/service/register", body, token: "guess");
        using var wrongDeregister = await SendAsync(agent, HttpMethod.Put, "v1/agent/service/deregister/web", null, token: "guess");
        using var right = await SendAsync(agent, HttpMethod.Put, "v1/agent/service/register", body, token: "secret");

        Assert.Equal(HttpStatusCode.Forbidden, missing.StatusCode);
        Assert.Equal("Permission denied", await missing.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
        Assert.Equal("ACL not found", await wrong.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, wrongDeregister.StatusCode);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.NotNull(agent.Service("web"));
        Assert.Equal([null, "guess", "guess", "secret"], agent.Calls.Select(c => c.Token));
    }

    [Fact]
    public async Task Reaper_CheckCriticalLongerThanDeregisterCriticalServiceAfter_RemovesTheService_AtAReaperPass()
    {
        // 10s is raised to one minute; the reaper passes every 30 s from the agent's start (now).
        await RegisterAsync("web-1", """{"HTTP":"{{target}}","Interval":"5s","DeregisterCriticalServiceAfter":"10s"}""", target: 503);

        await AdvanceAsync(TimeSpan.FromSeconds(60));
        var atOneMinute = _agent.Service("web-1");
        await AdvanceAsync(TimeSpan.FromSeconds(30));

        // The critical time starts at the first run, within 5 s of the registration: at the pass at 60 s the check has
        // been critical for less than the minute, at the pass at 90 s for longer (agent/agent.go: CriticalFor() > timeout).
        Assert.NotNull(atOneMinute);
        Assert.Equal("critical", atOneMinute.CheckStatus);
        Assert.Null(_agent.Service("web-1"));
        Assert.Equal(["web-1"], _agent.Reaped);
        using var read = await _client.GetAsync(new Uri(_agent.Address, "v1/agent/service/web-1"));
        Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
    }

    [Fact]
    public async Task Reaper_PassingCheck_OrCriticalCheckWithoutATimeout_NeverRemovesTheService()
    {
        // One service whose reaping check passes while another check of it stays critical, one with a critical check
        // that sets no timeout: Consul reaps by each check's own timeout, so neither goes.
        await PutAsync(
            "v1/agent/service/register",
            $$$"""{"ID":"alive","Name":"web","Checks":[{"HTTP":"{{{_agent.Address}}}_fake/status/503","Interval":"5s"},{"HTTP":"{{{_agent.Address}}}_fake/status/200","Interval":"5s","DeregisterCriticalServiceAfter":"1m"}]}""");
        await RegisterAsync("untimed", """{"HTTP":"{{target}}","Interval":"5s"}""", target: 503);

        await AdvanceAsync(TimeSpan.FromMinutes(5));

        var alive = _agent.Service("alive")!;
        Assert.Equal(["critical", "passing"], alive.Checks.Select(c => c.Status));
        Assert.Equal("critical", _agent.Service("untimed")!.CheckStatus);
        Assert.Empty(_agent.Reaped);
    }

    [Fact]
    public async Task Reaper_CriticalTimeRestartsAfterTheCheckPassed()
    {
        var status = 503;
        await using var target = await TargetAsync(() => status);
        await RegisterAsync("web-1", $$$"""{"HTTP":"{{{target}}}","Interval":"5s","DeregisterCriticalServiceAfter":"1m"}""");

        // Critical for 50 s, passing once, critical again: 40 s later (90 s from the start) it is only 40 s critical.
        await AdvanceAsync(TimeSpan.FromSeconds(50));
        status = 200;
        await AdvanceAsync(TimeSpan.FromSeconds(5));
        var passed = _agent.Service("web-1")!.CheckStatus;
        status = 503;
        await AdvanceAsync(TimeSpan.FromSeconds(35));
        var stillThere = _agent.Service("web-1");
        await AdvanceAsync(TimeSpan.FromSeconds(60));

        Assert.Equal("passing", passed);
        Assert.NotNull(stillThere);
        Assert.Null(_agent.Service("web-1"));
    }

    [Fact]
    public async Task Checks_RunPeriodically_FirstAfterARandomStaggerWithinTheInterval()
    {
        var registeredAt = _time.GetUtcNow();
        for (var i = 0; i < 8; i++)
        {
            await RegisterAsync($"web-{i}", """{"HTTP":"{{target}}","Interval":"10s"}""", target: 200);
        }

        await AdvanceAsync(TimeSpan.FromSeconds(35), step: TimeSpan.FromMilliseconds(100));

        var runs = _agent.CheckRuns.Where(r => r.Scheduled).GroupBy(r => r.ServiceId).ToDictionary(g => g.Key, g => g.Select(r => r.StartedAt).ToArray());
        Assert.Equal(8, runs.Count);
        var firsts = runs.Values.Select(r => r[0] - registeredAt).ToArray();
        Assert.All(firsts, first => Assert.InRange(first, TimeSpan.Zero, TimeSpan.FromSeconds(10)));
        Assert.True(firsts.Distinct().Count() > 1, $"every first run at the same offset: {string.Join(", ", firsts)}");
        Assert.All(runs.Values, starts =>
        {
            Assert.InRange(starts.Length, 3, 4);
            Assert.All(starts.Zip(starts.Skip(1)), pair => Assert.InRange(pair.Second - pair.First, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10.2)));
        });
        Assert.All(_agent.Services, s => Assert.Equal("passing", s.CheckStatus));
    }

    [Fact]
    public async Task Checks_IntervalBelowOneSecond_IsRaisedToOneSecond()
    {
        await RegisterAsync("web-1", """{"HTTP":"{{target}}","Interval":"100ms"}""", target: 200);

        await AdvanceAsync(TimeSpan.FromSeconds(4), step: TimeSpan.FromMilliseconds(50));

        Assert.Equal(TimeSpan.FromSeconds(1), _agent.Service("web-1")!.CheckInterval);
        var starts = _agent.CheckRuns.Where(r => r.Scheduled).Select(r => r.StartedAt).ToArray();
        Assert.InRange(starts.Length, 3, 5);
        Assert.All(starts.Zip(starts.Skip(1)), pair => Assert.True(pair.Second - pair.First >= TimeSpan.FromSeconds(1), $"{pair.Second - pair.First} between runs"));
    }

    [Fact]
    public async Task Checks_SeveralOnOneService_GetNumberedIds_AndAllMustPassForThePassingList()
    {
        await PutAsync(
            "v1/agent/service/register",
            $$$"""{"ID":"web-1","Name":"web","Check":{"HTTP":"{{{_agent.Address}}}_fake/status/200","Interval":"1s"},"Checks":[{"Name":"live","HTTP":"{{{_agent.Address}}}_fake/status/503","Interval":"1s"}]}""");

        await _agent.RunChecksAsync();
        var all = await HealthAsync("web", passingOnly: false);

        var service = _agent.Service("web-1")!;
        Assert.Equal(["service:web-1:1", "service:web-1:2"], service.Checks.Select(c => c.Id));
        Assert.Equal(["Service 'web' check", "live"], service.Checks.Select(c => c.Name));
        Assert.Equal("critical", service.CheckStatus);
        Assert.Empty(await HealthAsync("web", passingOnly: true));
        Assert.Equal(
            [("service:web-1:1", "passing"), ("service:web-1:2", "critical")],
            Assert.Single(all).GetProperty("Checks").EnumerateArray().Select(c => (c.GetProperty("CheckID").GetString(), c.GetProperty("Status").GetString())));
    }

    [Fact]
    public async Task AclToken_IsReadFromTheQuery_TheHeader_OrAnAuthorizationBearer()
    {
        await using var agent = await FakeConsulAgent.StartAsync(aclToken: "secret", time: _time);
        const string body = """{"Name":"web"}""";

        using var bearer = await SendAsync(agent, HttpMethod.Put, "v1/agent/service/register", body, token: null, authorization: "Bearer secret");
        using var bearerLowerCase = await SendAsync(agent, HttpMethod.Put, "v1/agent/service/register", body, token: null, authorization: "bearer  secret ");
        using var basic = await SendAsync(agent, HttpMethod.Put, "v1/agent/service/register", body, token: null, authorization: "Basic secret");
        using var wrongBearer = await SendAsync(agent, HttpMethod.Put, "v1/agent/service/register", body, token: null, authorization: "Bearer guess");
        using var query = await SendAsync(agent, HttpMethod.Put, "v1/agent/service/register?token=secret", body, token: null);

        Assert.Equal(HttpStatusCode.OK, bearer.StatusCode);
        Assert.Equal(HttpStatusCode.OK, bearerLowerCase.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, basic.StatusCode);
        Assert.Equal("Permission denied", await basic.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, wrongBearer.StatusCode);
        Assert.Equal("ACL not found", await wrongBearer.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, query.StatusCode);
        Assert.Equal(["secret", "secret", null, "guess", "secret"], agent.Calls.Select(c => c.Token));
    }

    [Fact]
    public async Task Deregister_RemovesAKnownService_Returns404ForAnUnknownOne()
    {
        await PutAsync("v1/agent/service/register", """{"ID":"web-1","Name":"web"}""");

        var known = await PutAsync("v1/agent/service/deregister/web-1", null);
        var again = await PutAsync("v1/agent/service/deregister/web-1", null);
        using var read = await _client.GetAsync(new Uri(_agent.Address, "v1/agent/service/web-1"));

        Assert.Equal(HttpStatusCode.OK, known.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal(
            "Unknown service ID \"web-1\". Ensure that the service ID is passed, not the service name.",
            await again.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
        Assert.Empty(_agent.Services);
    }

    [Fact]
    public async Task Maintenance_TakesAServiceOutOfThePassingList_UntilDisabled()
    {
        await PutAsync(
            "v1/agent/service/register",
            $$$"""{"ID":"web-1","Name":"web","Check":{"HTTP":"{{{_agent.Address}}}_fake/status/200","Interval":"1s"}}""");
        await _agent.RunChecksAsync();
        Assert.Single(await HealthAsync("web", passingOnly: true));

        var enable = await PutAsync("v1/agent/service/maintenance/web-1?enable=true&reason=upgrade", null);
        var enableAgain = await PutAsync("v1/agent/service/maintenance/web-1?enable=true&reason=upgrade", null);
        var passingDuring = await HealthAsync("web", passingOnly: true);
        var allDuring = await HealthAsync("web", passingOnly: false);
        var disable = await PutAsync("v1/agent/service/maintenance/web-1?enable=false", null);

        Assert.Equal(HttpStatusCode.OK, enable.StatusCode);
        Assert.Equal(HttpStatusCode.OK, enableAgain.StatusCode);
        Assert.Equal(HttpStatusCode.OK, disable.StatusCode);
        Assert.Empty(passingDuring);
        var checks = Assert.Single(allDuring).GetProperty("Checks").EnumerateArray().ToArray();
        var maintenance = Assert.Single(checks, c => c.GetProperty("CheckID").GetString() == "_service_maintenance:web-1");
        Assert.Equal("critical", maintenance.GetProperty("Status").GetString());
        Assert.Equal("upgrade", maintenance.GetProperty("Notes").GetString());
        Assert.Single(await HealthAsync("web", passingOnly: true));
    }

    [Fact]
    public async Task Maintenance_NeedsEnableAndAKnownService()
    {
        await PutAsync("v1/agent/service/register", """{"ID":"web-1","Name":"web"}""");

        var missing = await PutAsync("v1/agent/service/maintenance/web-1", null);
        var invalid = await PutAsync("v1/agent/service/maintenance/web-1?enable=maybe", null);
        var unknown = await PutAsync("v1/agent/service/maintenance/nope?enable=true", null);

        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Equal("Missing value for enable", await missing.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task Health_WithPassing_ListsOnlyServicesWhoseChecksPass()
    {
        foreach (var (id, target) in new[] { ("ok", "_fake/status/200"), ("busy", "_fake/status/429"), ("down", "_fake/status/503"), ("gone", null) })
        {
            var url = target is null ? "http://127.0.0.1:1/" : _agent.Address + target;
            await PutAsync("v1/agent/service/register", $$$"""{"ID":"{{{id}}}","Name":"web","Check":{"HTTP":"{{{url}}}","Interval":"1s","Timeout":"2s"}}""");
        }

        await PutAsync("v1/agent/service/register", """{"ID":"other","Name":"other","Check":{"HTTP":"http://127.0.0.1:1/","Interval":"1s"}}""");
        var beforeChecks = await HealthAsync("web", passingOnly: true);

        var statuses = await _agent.RunChecksAsync();
        var passing = await HealthAsync("web", passingOnly: true);
        var all = await HealthAsync("web", passingOnly: false);

        Assert.Empty(beforeChecks);
        Assert.Equal("passing", statuses["ok"]);
        Assert.Equal("warning", statuses["busy"]);
        Assert.Equal("critical", statuses["down"]);
        Assert.Equal("critical", statuses["gone"]);
        var entry = Assert.Single(passing);
        Assert.Equal("ok", entry.GetProperty("Service").GetProperty("ID").GetString());
        Assert.Equal("passing", Assert.Single(entry.GetProperty("Checks").EnumerateArray()).GetProperty("Status").GetString());
        Assert.Equal(["busy", "down", "gone", "ok"], all.Select(e => e.GetProperty("Service").GetProperty("ID").GetString()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Calls_AreRecordedInArrivalOrderWithTheirAnswer()
    {
        await PutAsync("v1/agent/service/register", """{"ID":"web-1","Name":"web"}""");
        using (await _client.GetAsync(new Uri(_agent.Address, "v1/agent/service/web-1")))
        {
        }

        await PutAsync("v1/agent/service/deregister/web-1", null);

        Assert.Equal(
            ["PUT /v1/agent/service/register -> 200", "GET /v1/agent/service/web-1 -> 200", "PUT /v1/agent/service/deregister/web-1 -> 200"],
            _agent.Calls.Select(c => c.ToString()));
    }

    [Fact]
    public async Task Unavailable_DropsConnectionsWithoutAnswering()
    {
        _agent.Unavailable = true;

        await Assert.ThrowsAsync<HttpRequestException>(() => _client.GetAsync(new Uri(_agent.Address, "v1/agent/service/web-1")));

        Assert.True(_agent.RefusedCount >= 1);
        Assert.Empty(_agent.Calls);
    }

    [Fact]
    public async Task HealthQuery_CarriesTheServiceIndex_WhichOnlyAChangeToThatServiceMoves()
    {
        await PutAsync("v1/agent/service/register", """{"ID":"web-1","Name":"web","Port":80}""");
        var web = await IndexOfAsync("web");
        await PutAsync("v1/agent/service/register", """{"ID":"db-1","Name":"db","Port":5432}""");

        Assert.True(web >= 1);
        Assert.Equal(web, await IndexOfAsync("web"));
        Assert.True(await IndexOfAsync("db") > web);

        // A name never registered answers the index of the last change to any service, at least 1.
        Assert.Equal(_agent.Index, await IndexOfAsync("nothing"));
    }

    [Fact]
    public async Task BlockingQuery_IsHeldUntilTheServiceChanges_ThenAnswersTheNewListAndIndex()
    {
        await PutAsync("v1/agent/service/register", """{"ID":"web-1","Name":"web","Port":80}""");
        await PutAsync("v1/agent/service/register", """{"ID":"web-2","Name":"web","Port":81}""");
        var index = await IndexOfAsync("web");

        var blocked = _client.GetAsync(new Uri(_agent.Address, $"v1/health/service/web?passing&index={index}&wait=1m"));
        await PutAsync("v1/agent/service/register", """{"ID":"db-1","Name":"db","Port":5432}""");
        Assert.False(await Task.WhenAny(blocked, Task.Delay(200)) == blocked, "a change to another service does not answer it");

        Assert.Equal(HttpStatusCode.OK, (await PutAsync("v1/agent/service/deregister/web-1", null)).StatusCode);
        using var answer = await Eventually.ResultAsync(blocked, "the deregistration answers the blocking query");
        Assert.True(long.Parse(answer.Headers.GetValues("X-Consul-Index").Single(), System.Globalization.CultureInfo.InvariantCulture) > index);
        using var json = JsonDocument.Parse(await answer.Content.ReadAsStringAsync());
        Assert.Equal(["web-2"], json.RootElement.EnumerateArray().Select(e => e.GetProperty("Service").GetProperty("ID").GetString()));
    }

    [Theory]
    [InlineData("", 300)]
    [InlineData("&wait=10s", 10)]
    [InlineData("&wait=1h", 600)]
    public async Task BlockingQuery_WithoutAChange_AnswersAfterTheWait_BoundedByTheMaxAndJittered(string wait, int seconds)
    {
        await PutAsync("v1/agent/service/register", """{"ID":"web-1","Name":"web","Port":80}""");
        var index = await IndexOfAsync("web");
        var blocked = _client.GetAsync(new Uri(_agent.Address, $"v1/health/service/web?index={index}{wait}"));
        // The wait and its jitter (up to a sixteenth) on the agent's clock; the reaper's 30 s timer is not in any window.
        var bound = TimeSpan.FromSeconds(seconds);
        await Eventually.TrueAsync(() => _time.PendingDueTimes.Any(d => d >= bound && d <= bound + (bound / 16)), "the query waits on the agent's clock, jittered");
        var due = _time.PendingDueTimes.Single(d => d >= bound && d <= bound + (bound / 16));
        _time.Advance(due - TimeSpan.FromMilliseconds(1));
        Assert.False(blocked.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        using var answer = await Eventually.ResultAsync(blocked, "the wait ends with the list as it is");
        Assert.Equal(index.ToString(System.Globalization.CultureInfo.InvariantCulture), answer.Headers.GetValues("X-Consul-Index").Single());
    }

    [Theory]
    [InlineData("index=abc", "Invalid index")]
    [InlineData("index=-1", "Invalid index")]
    [InlineData("index=5&wait=10", "Invalid wait time")]
    public async Task BlockingQuery_WithAnUnreadableIndexOrWait_Is400(string query, string message)
    {
        using var answer = await _client.GetAsync(new Uri(_agent.Address, $"v1/health/service/web?{query}"));

        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Equal(message, await answer.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ARestoredIndex_AnswersTheBlockingQueriesAtOnce_WithTheLowerIndex()
    {
        await PutAsync("v1/agent/service/register", """{"ID":"web-1","Name":"web","Port":80}""");
        var index = await IndexOfAsync("web");
        var blocked = _client.GetAsync(new Uri(_agent.Address, $"v1/health/service/web?index={index}&wait=1m"));
        await Eventually.TrueAsync(() => _agent.CallsTo("GET", "/v1/health/service/web").Count == 2, "the query arrives");

        _agent.ResetIndex(3);

        using var answer = await Eventually.ResultAsync(blocked, "the restore answers the blocking query");
        Assert.Equal("3", answer.Headers.GetValues("X-Consul-Index").Single());
    }

    private async Task<long> IndexOfAsync(string service)
    {
        using var answer = await _client.GetAsync(new Uri(_agent.Address, $"v1/health/service/{service}"));
        return long.Parse(answer.Headers.GetValues("X-Consul-Index").Single(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task<HttpResponseMessage> PutAsync(string path, string? body) => await SendAsync(_agent, HttpMethod.Put, path, body, token: null);

    /// <summary>Registers service <paramref name="id"/> (name <c>web</c>) with one check; <c>{{target}}</c> in it is the
    /// fake's own target answering <paramref name="target"/>.</summary>
    private async Task RegisterAsync(string id, string check, int? target = null)
    {
        var resolved = target is { } code ? check.Replace("{{target}}", $"{_agent.Address}_fake/status/{code}", StringComparison.Ordinal) : check;
        using var response = await PutAsync("v1/agent/service/register", $$$"""{"ID":"{{{id}}}","Name":"web","Check":{{{resolved}}}}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>Moves the agent's clock in steps, letting the checks each step started finish before the next.</summary>
    private async Task AdvanceAsync(TimeSpan by, TimeSpan? step = null)
    {
        var size = step ?? TimeSpan.FromSeconds(1);
        for (var moved = TimeSpan.Zero; moved < by; moved += size)
        {
            _time.Advance(size);
            await _agent.ChecksCompletedAsync();
        }
    }

    /// <summary>A check target answering what <paramref name="status"/> says at each call.</summary>
    private static async Task<CheckTarget> TargetAsync(Func<int> status)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/", () => Results.StatusCode(status()));
        await app.StartAsync();
        return new CheckTarget(app);
    }

    private async Task<HttpResponseMessage> SendAsync(FakeConsulAgent agent, HttpMethod method, string path, string? body, string? token, string? authorization = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(agent.Address, path));
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        if (token is not null)
        {
            request.Headers.Add("X-Consul-Token", token);
        }

        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        var response = await _client.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    private async Task<JsonElement[]> HealthAsync(string name, bool passingOnly)
    {
        var json = await _client.GetStringAsync(new Uri(_agent.Address, $"v1/health/service/{name}" + (passingOnly ? "?passing" : string.Empty)));
        using var document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateArray().Select(e => e.Clone()).ToArray();
    }

    private sealed class CheckTarget(WebApplication app) : IAsyncDisposable
    {
        public override string ToString() => app.Urls.First() + "/";

        public ValueTask DisposeAsync() => app.DisposeAsync();
    }
}
