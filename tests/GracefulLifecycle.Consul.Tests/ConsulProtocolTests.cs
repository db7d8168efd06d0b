using System.Net;
using System.Net.Sockets;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.TestSupport.Consul;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.Consul.Tests;

/// <summary>The adapter's calls, made directly (the lifecycle decides when in real use), against the fake agent.</summary>
public sealed class ConsulProtocolTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new();
    private readonly CapturingLoggerProvider _logs = new();
    private FakeConsulAgent _agent = null!;

    public async Task InitializeAsync() => _agent = await FakeConsulAgent.StartAsync(aclToken: "s3cret");

    public async Task DisposeAsync() => await _agent.DisposeAsync();

    [Theory]
    [InlineData(2000, "2s")]
    [InlineData(500, "500ms")]
    [InlineData(60_000, "60s")]
    [InlineData(1500, "1500ms")]
    [InlineData(0, "0s")]
    public void Durations_AreWrittenAsGoDurationStrings(int milliseconds, string expected)
    {
        var text = GoDuration.Format(TimeSpan.FromMilliseconds(milliseconds));

        Assert.Equal(expected, text);
        Assert.True(GoDurationParser.TryParse(text, out var parsed));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), parsed);
    }

    [Fact]
    public void Durations_BelowAMillisecond_StayExact()
    {
        Assert.Equal("10us", GoDuration.Format(TimeSpan.FromMicroseconds(10)));
        Assert.Equal("100ns", GoDuration.Format(TimeSpan.FromTicks(1)));
    }

    [Fact]
    public async Task RegisterRenewDeregister_EachSendTheToken_AndGetTheExpectedAnswers()
    {
        using var services = Build();
        var registry = Registry(services);

        await registry.RegisterAsync(services, CancellationToken.None);
        var known = await registry.RenewAsync(CancellationToken.None);
        await registry.DeregisterAsync(new DeregistrationContext(TimeSpan.FromMilliseconds(1500)), CancellationToken.None);
        var afterDeregister = await registry.RenewAsync(CancellationToken.None);

        Assert.True(known);
        Assert.False(afterDeregister);
        Assert.Equal(
            [
                "PUT /v1/agent/service/register?replace-existing-checks=true -> 200",
                "GET /v1/agent/service/orders-1 -> 200",
                "PUT /v1/agent/service/deregister/orders-1 -> 200",

                // Nothing after the deregistration: the renewal answers false without asking the agent.
            ],
            _agent.Calls.Select(c => $"{c.Method} {c.Path}{c.Query} -> {c.StatusCode}"));
        Assert.All(_agent.Calls, c => Assert.Equal("s3cret", c.Token));
    }

    [Fact]
    public async Task Register_SendsTheServiceDefinitionWithAnHttpCheck()
    {
        using var services = Build(o =>
        {
            o.Tags.Add("v2");
            o.Tags.Add("v2");
            o.Metadata["zone"] = "eu-1";
            o.CheckInterval = TimeSpan.FromMilliseconds(1500);
            o.CheckTimeout = TimeSpan.FromMilliseconds(500);
            o.DeregisterCriticalServiceAfter = TimeSpan.FromMinutes(2);
        });

        await Registry(services).RegisterAsync(services, CancellationToken.None);

        var body = Assert.Single(_agent.Calls).Json();
        Assert.Equal("orders-1", body.GetProperty("ID").GetString());
        Assert.Equal("orders", body.GetProperty("Name").GetString());
        Assert.Equal("10.1.2.3", body.GetProperty("Address").GetString());
        Assert.Equal(8080, body.GetProperty("Port").GetInt32());
        Assert.Equal(["v2"], body.GetProperty("Tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("eu-1", body.GetProperty("Meta").GetProperty("zone").GetString());
        var checks = body.GetProperty("Checks").EnumerateArray().ToArray();
        Assert.Equal(2, checks.Length);
        var (readiness, liveness) = (checks[0], checks[1]);
        Assert.Equal("Service 'orders' readiness", readiness.GetProperty("Name").GetString());
        Assert.Equal("http://10.1.2.3:8080/ifready", readiness.GetProperty("HTTP").GetString());
        Assert.Equal("Service 'orders' liveness", liveness.GetProperty("Name").GetString());
        Assert.Equal("http://10.1.2.3:8080/health", liveness.GetProperty("HTTP").GetString());
        Assert.All(checks, check =>
        {
            Assert.Equal("GET", check.GetProperty("Method").GetString());
            Assert.Equal("1500ms", check.GetProperty("Interval").GetString());
            Assert.Equal("500ms", check.GetProperty("Timeout").GetString());
        });

        // Only the liveness check lets the reaper remove the service: a live instance that is not ready stays.
        Assert.False(readiness.TryGetProperty("DeregisterCriticalServiceAfter", out _));
        Assert.Equal("120s", liveness.GetProperty("DeregisterCriticalServiceAfter").GetString());
        var service = _agent.Service("orders-1")!;
        Assert.Equal(["service:orders-1:1", "service:orders-1:2"], service.Checks.Select(c => c.Id));
        Assert.Equal([TimeSpan.Zero, TimeSpan.FromMinutes(2)], service.Checks.Select(c => c.DeregisterCriticalServiceAfter));
        Assert.Equal(TimeSpan.FromMilliseconds(1500), service.CheckInterval);
    }

    [Fact]
    public void Register_IPv6ServiceAddress_IsBracketedInTheCheckUrl()
    {
        using var services = Build(o => o.ServiceAddress = "fd00::5");

        var definition = Registry(services).CreateDefinition(ServiceInstances.Describe(services));

        Assert.Equal("http://[fd00::5]:8080/ifready", definition.CheckUrl);
        Assert.Equal("http://[fd00::5]:8080/health", definition.LivenessCheckUrl);
    }

    [Fact]
    public async Task Register_DeregisterCriticalServiceAfterBelowOneMinute_IsSentAsSet_AndTheAgentRaisesItToOneMinute()
    {
        using var services = Build(o => o.DeregisterCriticalServiceAfter = TimeSpan.FromSeconds(30));

        await Registry(services).RegisterAsync(services, CancellationToken.None);

        var liveness = Assert.Single(_agent.Calls).Json().GetProperty("Checks")[1];
        Assert.Equal("30s", liveness.GetProperty("DeregisterCriticalServiceAfter").GetString());
        Assert.Equal(TimeSpan.FromMinutes(1), _agent.Service("orders-1")!.DeregisterCriticalServiceAfter);
    }

    [Fact]
    public async Task Register_CheckUrlsAndZeroDeregisterCriticalServiceAfter_AreSentAsSet()
    {
        using var services = Build(o =>
        {
            o.CheckUrl = "http://sidecar:9000/ready";
            o.LivenessCheckUrl = "http://sidecar:9000/live";
            o.DeregisterCriticalServiceAfter = TimeSpan.Zero;
        });

        await Registry(services).RegisterAsync(services, CancellationToken.None);

        var checks = Assert.Single(_agent.Calls).Json().GetProperty("Checks").EnumerateArray().ToArray();
        Assert.Equal(["http://sidecar:9000/ready", "http://sidecar:9000/live"], checks.Select(c => c.GetProperty("HTTP").GetString()));
        Assert.All(checks, c => Assert.False(c.TryGetProperty("DeregisterCriticalServiceAfter", out _)));
    }

    [Fact]
    public async Task Register_Refused_ThrowsWithTheStatusAndTheAgentsAnswer()
    {
        using var services = Build(o => o.Token = "wrong");

        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => Registry(services).RegisterAsync(services, CancellationToken.None));

        Assert.Equal(HttpStatusCode.Forbidden, ex.StatusCode);
        Assert.Contains("403", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ACL not found", ex.Message, StringComparison.Ordinal);
        Assert.Contains("/v1/agent/service/register", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deregister_UnknownService_IsNotAnError()
    {
        using var services = Build();
        var registry = Registry(services);
        await registry.RegisterAsync(services, CancellationToken.None);
        Assert.True(_agent.Forget("orders-1"));

        await registry.DeregisterAsync(new DeregistrationContext(TimeSpan.FromMilliseconds(1500)), CancellationToken.None);

        Assert.Equal(404, _agent.Calls[^1].StatusCode);
        Assert.True(_logs.Contains("did not know service orders-1 when deregistering it (404)"));
        Assert.Contains(_logs.Lines, l => l.StartsWith("Debug", StringComparison.Ordinal) && l.Contains("[123]", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Deregister_WithoutARegistration_SendsNothing()
    {
        using var services = Build();

        await Registry(services).DeregisterAsync(new DeregistrationContext(TimeSpan.FromMilliseconds(1500)), CancellationToken.None);

        Assert.Empty(_agent.Calls);
    }

    [Fact]
    public async Task Renew_RefusedForAnotherReasonThan404_ThrowsInsteadOfReportingTheServiceLost()
    {
        using var services = Build();
        var registry = Registry(services);
        await registry.RegisterAsync(services, CancellationToken.None);
        using var wrongToken = Build(o => o.Token = "expired");
        var other = Registry(wrongToken);
        await Assert.ThrowsAsync<HttpRequestException>(() => other.RegisterAsync(wrongToken, CancellationToken.None));

        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => other.RenewAsync(CancellationToken.None));

        Assert.Equal(HttpStatusCode.Forbidden, ex.StatusCode);
    }

    [Fact]
    public async Task Timeout_AgentDoesNotAnswer_FailsAfterRequestTimeoutOnTheInjectedClock()
    {
        using var services = Build(o => o.RequestTimeout = TimeSpan.FromSeconds(3));
        var registry = Registry(services);
        await registry.RegisterAsync(services, CancellationToken.None);
        using var hung = _agent.Hold(c => c.IsServiceRead);

        var renew = registry.RenewAsync(CancellationToken.None);
        Assert.True(await _agent.WaitForCallsAsync(calls => calls.Any(c => c.IsServiceRead), TimeSpan.FromSeconds(10)));
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.False(renew.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1));

        var ex = await Assert.ThrowsAsync<TimeoutException>(() => renew.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("gave no answer to GET /v1/agent/service/orders-1 within 00:00:03", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancellation_ByTheCaller_IsNotReportedAsATimeout()
    {
        using var services = Build();
        var registry = Registry(services);
        await registry.RegisterAsync(services, CancellationToken.None);
        using var hung = _agent.Hold(c => c.IsDeregister);
        using var cancel = new CancellationTokenSource();

        var deregister = registry.DeregisterAsync(new DeregistrationContext(TimeSpan.FromMilliseconds(1500)), cancel.Token);
        Assert.True(await _agent.WaitForCallsAsync(calls => calls.Any(c => c.IsDeregister), TimeSpan.FromSeconds(10)));
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => deregister.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task AddressWithTrailingSlash_IsJoinedCorrectly()
    {
        using var services = Build(o => o.Address = _agent.Address.ToString());

        await Registry(services).RegisterAsync(services, CancellationToken.None);

        Assert.Equal("/v1/agent/service/register", Assert.Single(_agent.Calls).Path);
    }

    [Fact]
    public async Task ConnectionReset_FailsTheCallWithAnHttpRequestExceptionNamingTheAgent()
    {
        ResetConnectionHandler reset = null!;
        using var services = Build(services: s => reset = ResetConnectionHandler.AddTo(s, ConsulRegistry.HttpClientName, _agent.Address));

        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => Registry(services).RegisterAsync(services, CancellationToken.None));

        Assert.Equal(1, reset.Resets);
        Assert.IsType<SocketException>(ex.InnerException);
        Assert.Equal(HttpRequestError.ConnectionError, ex.HttpRequestError);
        Assert.Contains(
            $"Consul agent {_agent.Address} could not be reached for PUT /v1/agent/service/register: NotConnected",
            ex.Message,
            StringComparison.Ordinal);
        Assert.Empty(_agent.Calls);
    }

    private LifecycleTestServices Build(Action<ConsulOptions>? configure = null, Action<IServiceCollection>? services = null) =>
        LifecycleTestServices.Build(
            configure: b => b.AddConsul(o =>
            {
                o.Address = _agent.Address.ToString().TrimEnd('/');
                o.Token = "s3cret";
                o.ServiceName = "orders";
                o.ServiceId = "orders-1";
                o.ServiceAddress = "10.1.2.3";
                o.Port = 8080;
                configure?.Invoke(o);
            }),
            time: _time,
            logs: _logs,
            services: services,
            applicationName: "orders-api");

    private static ConsulRegistry Registry(IServiceProvider services) =>
        Assert.IsType<ConsulRegistry>(Assert.Single(services.GetServices<IServiceRegistry>()));
}
