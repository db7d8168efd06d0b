using GracefulLifecycle.Eureka.Tests.Infrastructure;
using GracefulLifecycle.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.Eureka.Tests.Lifecycle;

/// <summary>Startup with Eureka unreachable, and the timing checks made before the host starts.</summary>
public sealed class StartupTests
{
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task EurekaDownAtStartup_ReadyAfterTheStartupTimeout_AndRegistersOnceEurekaIsBack()
    {
        var port = Ports.Closed();
        await using var s = await EurekaScenario.StartAsync(
            serviceUrl: $"http://127.0.0.1:{port}/eureka/",
            lifecycle: o =>
            {
                o.Registration.StartupTimeout = StartupTimeout;
                o.Registration.RetryMaxDelay = TimeSpan.FromSeconds(2);
            });
        var started = s.Time.GetUtcNow();
        Assert.Equal(503, await s.ReadinessAsync());

        await s.AdvanceUntilAsync(async () => await s.ReadinessAsync() == 200, "ready without Eureka", TimeSpan.FromMilliseconds(250));

        Assert.InRange(s.Time.GetUtcNow() - started, StartupTimeout, StartupTimeout + TimeSpan.FromSeconds(1));
        Assert.True(s.Logs.Contains("Not registered with Eureka after 00:00:03; reporting ready anyway"));
        Assert.True(s.Logs.Contains("Registration with Eureka failed (attempt 2)"));

        await s.StartEurekaAsync(port);
        await s.AdvanceUntilAsync(() => s.Eureka.CallsTo("POST").Count == 1, "registered once Eureka is back", TimeSpan.FromMilliseconds(250));
        await s.HeartbeatsAsync(1);

        Assert.Equal(200, await s.ReadinessAsync());
        Assert.Equal(["POST 204", "PUT 200"], s.Eureka.Calls.Select(c => $"{c.Method} {c.StatusCode}"));
    }

    [Fact]
    public async Task EurekaDownAtStartup_RegistrationRequired_StaysUnreadyUntilRegisteredAndVisible()
    {
        var port = Ports.Closed();
        await using var s = await EurekaScenario.StartAsync(
            serviceUrl: $"http://127.0.0.1:{port}/eureka/",
            lifecycle: o =>
            {
                o.Registration.StartupTimeout = StartupTimeout;
                o.Registration.RetryMaxDelay = TimeSpan.FromSeconds(2);
            },
            settings: new Dictionary<string, string?> { ["GracefulLifecycle:Registration:Required"] = "true" });

        for (var i = 0; i < 40; i++)
        {
            s.Time.Advance(TimeSpan.FromMilliseconds(250));
            Assert.Equal(503, await s.ReadinessAsync());
        }

        Assert.Equal(LifecyclePhase.Registering, s.Host.Lifecycle.Phase);
        Assert.False(s.Logs.Contains("reporting ready anyway"));

        await s.StartEurekaAsync(port);
        await s.AdvanceUntilAsync(() => s.Eureka.Calls.Count > 0, "registered once Eureka is back", TimeSpan.FromMilliseconds(250));
        var post = s.Eureka.Calls[0];
        Assert.Equal(503, await s.ReadinessAsync());
        await s.AdvanceUntilAsync(async () => await s.ReadinessAsync() == 200, "ready");

        Assert.True(s.Time.GetUtcNow() - post.Time >= EurekaScenario.Propagation, "ready before consumers could see the instance");
    }

    [Fact]
    public async Task EurekaDefaults_FailStartup_NamingEurekaAndTheTerminationGracePeriod()
    {
        // 30000 ms server cache + 30 s consumers' fetch + 1 s margin = 61 s: more than the default 30 s grace period.
        var error = await Assert.ThrowsAnyAsync<Exception>(() => LifecycleTestHost.StartAsync(
            configure: b => b.AddEureka(o => o.ServiceUrl = "http://127.0.0.1:1/eureka/")));

        var message = Errors.AllMessages(error);
        Assert.Contains("raised from GracefulLifecycle:ShutdownDelay 00:00:05 by the propagation delay of Eureka", message, StringComparison.Ordinal);
        Assert.Contains("the shutdown delay (00:01:01", message, StringComparison.Ordinal);
        Assert.Contains("exceeds GracefulLifecycle:TerminationGracePeriod (00:00:30)", message, StringComparison.Ordinal);
        Assert.Contains("lower the cache intervals of Eureka", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidServiceUrl_FailsStartup_NamingTheKey()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => LifecycleTestHost.StartAsync(
            configure: b => b.AddEureka(EurekaScenario.FastEureka),
            settings: new Dictionary<string, string?> { ["GracefulLifecycle:Eureka:ServiceUrl"] = "eureka:8761" }));

        Assert.Contains("GracefulLifecycle:Eureka:ServiceUrl contains 'eureka:8761', which is not an absolute http(s) URL", Errors.AllMessages(error), StringComparison.Ordinal);
    }
}
