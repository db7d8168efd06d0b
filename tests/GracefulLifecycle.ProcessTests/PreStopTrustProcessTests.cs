using System.Net;

namespace GracefulLifecycle.ProcessTests;

/// <summary>
/// The reproduction on a real process: the sample behind <c>ASPNETCORE_FORWARDEDHEADERS_ENABLED=true</c>,
/// called from a second host (a network namespace) with a forged <c>X-Forwarded-For: 127.0.0.1</c>.
/// </summary>
public sealed class PreStopTrustProcessTests(ITestOutputHelper output)
{
    [NetworkNamespaceFact]
    public async Task FromAnotherHost_AForgedForwardedLoopbackAddress_Gets403_AndReadinessStays200()
    {
        await using var ns = await NetworkNamespace.CreateAsync();
        await using var app = await SampleProcess.StartAsync(
            output,
            $"http://{NetworkNamespace.HostAddress}:0",
            ("ASPNETCORE_FORWARDEDHEADERS_ENABLED", "true"),
            ("Sample:PreloadDuration", "00:00:00"));
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        await app.WaitUntilReadyAsync(client, TimeSpan.FromSeconds(30));
        var preStop = new Uri(app.BaseAddress, "/prestop");

        Assert.Equal(403, await ns.CurlAsync("POST", preStop));
        Assert.Equal(403, await ns.CurlAsync("POST", preStop, "X-Forwarded-For: 127.0.0.1"));
        Assert.Equal(403, await ns.CurlAsync("GET", preStop, "X-Forwarded-For: 127.0.0.1", "X-Forwarded-Proto: http"));
        Assert.Equal(403, await ns.CurlAsync("POST", preStop, "Forwarded: for=127.0.0.1", "X-Real-IP: 127.0.0.1"));

        // The refusal names the caller the transport saw, which is the namespace's address, not the forged one.
        await app.WaitForLogAsync($"from {NetworkNamespace.PeerAddress}", TimeSpan.FromSeconds(5));
        using var ready = await client.GetAsync(new Uri(app.BaseAddress, "/ifready"));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.DoesNotContain("Leaving", app.Output, StringComparison.Ordinal);
    }

    [NetworkNamespaceFact]
    public async Task FromAnotherHost_InsideAllowedNetworks_TheCallIsAccepted()
    {
        // The control: the same path works once the namespace's network is allowed, so the 403 above is the gate's.
        await using var ns = await NetworkNamespace.CreateAsync();
        await using var app = await SampleProcess.StartAsync(
            output,
            $"http://{NetworkNamespace.HostAddress}:0",
            ("ASPNETCORE_FORWARDEDHEADERS_ENABLED", "true"),
            ("Sample:PreloadDuration", "00:00:00"),
            ("GracefulLifecycle:ShutdownDelay", "00:00:01"),
            ("GracefulLifecycle:PreStop:AllowedNetworks:0", NetworkNamespace.PeerAddress + "/32"));
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        await app.WaitUntilReadyAsync(client, TimeSpan.FromSeconds(30));

        Assert.Equal(200, await ns.CurlAsync("POST", new Uri(app.BaseAddress, "/prestop")));
        using var ready = await client.GetAsync(new Uri(app.BaseAddress, "/ifready"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
    }
}
