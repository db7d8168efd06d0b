using System.Net;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.Tests.Endpoints;

/// <summary>
/// The preStop access decision rests on the connection, never on request headers, and refuses what a browser sends
/// on behalf of another site.
/// </summary>
public sealed class PreStopTrustTests
{
    private static Action<HttpRequestMessage> From(string address, params (string Name, string Value)[] headers) => request =>
    {
        request.Headers.Add(SampleAppFactory.RemoteAddressHeader, address);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
    };

    /// <summary>What <c>ASPNETCORE_FORWARDEDHEADERS_ENABLED=true</c> does: trust X-Forwarded-For from anyone.</summary>
    private static SampleAppFactory WithForwardedHeadersFromAnyone(SampleAppFactory app) =>
        app.WithServices(services => services.AddTransient<IStartupFilter, TrustEveryProxy>());

    [Fact]
    public async Task AForgedXForwardedForLoopback_FromAnotherHost_Gets403_AndReadinessStays200()
    {
        await using var app = WithForwardedHeadersFromAnyone(new SampleAppFactory());
        using var client = app.CreateClient();
        await app.WaitUntilReadyAsync();

        var answer = await ProbeResponse.GetAsync(client, "/prestop", From("10.200.0.2", ("X-Forwarded-For", "127.0.0.1")), HttpMethod.Post);

        Assert.Equal((HttpStatusCode.Forbidden, "Forbidden"), (answer.Code, answer.Status));
        Assert.Equal(LifecyclePhase.Ready, app.Lifecycle.Phase);
        Assert.Equal(HttpStatusCode.OK, (await ProbeResponse.GetAsync(client, "/ifready")).Code);
    }

    [Fact]
    public async Task AForgedXForwardedForInsideAllowedNetworks_FromOutside_Gets403()
    {
        await using var app = WithForwardedHeadersFromAnyone(new SampleAppFactory().With("GracefulLifecycle:PreStop:AllowedNetworks:0", "10.0.0.0/8"));
        using var client = app.CreateClient();
        await app.WaitUntilReadyAsync();

        var answer = await ProbeResponse.GetAsync(client, "/prestop", From("192.168.7.7", ("X-Forwarded-For", "10.1.2.3")));

        Assert.Equal(HttpStatusCode.Forbidden, answer.Code);
        Assert.Equal(LifecyclePhase.Ready, app.Lifecycle.Phase);
    }

    [Fact]
    public async Task OnRealKestrel_ALoopbackConnection_IsAccepted_WhateverXForwardedForClaims()
    {
        await using var app = WithForwardedHeadersFromAnyone(new SampleAppFactory());
        app.UseKestrel(0);
        app.StartServer();
        using var client = app.CreateClient();
        await app.WaitUntilReadyAsync();

        // The header claims a foreign caller; the decision follows Kestrel's transport endpoints, which are loopback.
        var call = ProbeResponse.GetAsync(client, "/prestop", request => request.Headers.Add("X-Forwarded-For", "203.0.113.9"));
        await app.WaitUntilServingTheDelayAsync();
        app.Time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(HttpStatusCode.OK, (await Eventually.ResultAsync(call, "the preStop answer")).Code);
    }

    [Theory]
    [InlineData("Sec-Fetch-Site", "cross-site")]
    [InlineData("Sec-Fetch-Site", "same-site")]
    [InlineData("Origin", "http://evil.example")]
    [InlineData("Origin", "null")]
    public async Task ABrowserCallOnBehalfOfAnotherSite_FromLoopback_Gets403(string header, string value)
    {
        await using var app = new SampleAppFactory();
        using var client = app.CreateClient();
        await app.WaitUntilReadyAsync();

        var answer = await ProbeResponse.GetAsync(client, "/prestop", From("127.0.0.1", (header, value)), HttpMethod.Post);

        Assert.Equal(HttpStatusCode.Forbidden, answer.Code);
        Assert.Equal(LifecyclePhase.Ready, app.Lifecycle.Phase);
    }

    [Theory]
    [InlineData("Sec-Fetch-Site", "none")]
    [InlineData("Sec-Fetch-Site", "same-origin")]
    [InlineData("Origin", "http://localhost")]
    public async Task ABrowserCallFromTheEndpointsOwnOrigin_FromLoopback_IsAccepted(string header, string value)
    {
        await using var app = new SampleAppFactory();
        using var client = app.CreateClient();
        await app.WaitUntilReadyAsync();

        var call = ProbeResponse.GetAsync(client, "/prestop", From("127.0.0.1", (header, value)));
        await app.WaitUntilServingTheDelayAsync();
        app.Time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(HttpStatusCode.OK, (await Eventually.ResultAsync(call, "the preStop answer")).Code);
    }

    [Fact]
    public async Task DnsRebinding_ABrowserPageOnTheAttackersNameReboundToLoopback_Gets403_OnRealKestrel()
    {
        // What a browser sends from http://rebind.attacker.example:5080 once that name resolves to 127.0.0.1: to the
        // browser the page is on its own origin, so Origin matches Host and Sec-Fetch-Site says same-origin.
        await using var host = await LifecycleTestHost.StartAsync();
        await Eventually.DoneAsync(host.Lifecycle.Ready, "ready");
        using var client = new HttpClient();

        using var request = PreStopCall(host, HttpMethod.Post, "rebind.attacker.example:5080",
            ("Origin", "http://rebind.attacker.example:5080"), ("Sec-Fetch-Site", "same-origin"), ("Sec-Fetch-Mode", "cors"), ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64)"));
        using var answer = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, answer.StatusCode);
        Assert.Equal(LifecyclePhase.Ready, host.Lifecycle.Phase);
        Assert.True(host.Logs.Contains("for host 'rebind.attacker.example:5080', not localhost or a loopback address (DNS rebinding)"), string.Join(Environment.NewLine, host.Logs.Lines));
    }

    [Fact]
    public async Task DnsRebinding_AnOlderBrowsersGetWithoutOriginOrSecFetch_Gets403_OnRealKestrel()
    {
        await using var host = await LifecycleTestHost.StartAsync();
        await Eventually.DoneAsync(host.Lifecycle.Ready, "ready");
        using var client = new HttpClient();

        using var request = PreStopCall(host, HttpMethod.Get, "rebind.attacker.example", ("User-Agent", "Mozilla/5.0 (Macintosh) Safari/605.1.15"));
        using var answer = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, answer.StatusCode);
        Assert.Equal(LifecyclePhase.Ready, host.Lifecycle.Phase);
    }

    [Theory]
    [InlineData("10.244.1.7:8080", "kube-lifecycle/1.31")] // the kubelet's httpGet hook, handed over on loopback by a mesh's sidecar
    [InlineData("localhost:8080", "curl/8.5.0")]
    [InlineData("127.0.0.1:8080", "curl/8.5.0")]
    [InlineData("[::1]:8080", "Mozilla/5.0 (X11; Linux x86_64)")] // a browser on the machine itself, at a loopback address
    public async Task KubeletCurlAndLoopbackBrowserCalls_FromLoopback_StillStartLeaving_OnRealKestrel(string hostHeader, string userAgent)
    {
        await using var host = await LifecycleTestHost.StartAsync();
        await Eventually.DoneAsync(host.Lifecycle.Ready, "ready");
        using var client = new HttpClient();

        using var request = PreStopCall(host, HttpMethod.Get, hostHeader, ("User-Agent", userAgent));
        var call = client.SendAsync(request);

        await Eventually.TrueAsync(() => host.Lifecycle.Phase == LifecyclePhase.Leaving, "leaving started by the preStop call");
        await host.AdvanceUntilAsync(() => call.IsCompleted, "the preStop answer after the delay");
        using var answer = await call;
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
    }

    [Fact]
    public async Task DnsRebinding_WithATokenGuardingTheEndpoint_TheTokenDecides_OnRealKestrel()
    {
        await using var host = await LifecycleTestHost.StartAsync(options: o => o.PreStop.Token = "s3cret");
        await Eventually.DoneAsync(host.Lifecycle.Ready, "ready");
        using var client = new HttpClient();

        // The rebound page does not know the token.
        using var guessing = PreStopCall(host, HttpMethod.Post, "rebind.attacker.example:5080", ("Origin", "http://rebind.attacker.example:5080"), ("Sec-Fetch-Site", "same-origin"));
        using (var refused = await client.SendAsync(guessing))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal(LifecyclePhase.Ready, host.Lifecycle.Phase);
        }

        // A browser-based tool of the operator's that sends it is let through.
        using var knowing = PreStopCall(host, HttpMethod.Post, "ops.example:8080", ("Origin", "http://ops.example:8080"), ("Sec-Fetch-Site", "same-origin"), ("X-PreStop-Token", "s3cret"));
        var call = client.SendAsync(knowing);
        await Eventually.TrueAsync(() => host.Lifecycle.Phase == LifecyclePhase.Leaving, "leaving started by the call with the token");
        await host.AdvanceUntilAsync(() => call.IsCompleted, "the preStop answer after the delay");
        using var answer = await call;
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
    }

    [Fact]
    public async Task InKubernetes_WithOnlyTheLoopbackRule_AWarningNamesTheFix()
    {
        await using var host = await LifecycleTestHost.StartAsync(settings: new Dictionary<string, string?> { ["KUBERNETES_SERVICE_HOST"] = "10.96.0.1" });

        Assert.Contains(host.Logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("[60]", StringComparison.Ordinal) && l.Contains("PreStop:Token", StringComparison.Ordinal));
    }

    [Fact]
    public async Task InKubernetes_WithAToken_OrOutsideKubernetes_NoWarning()
    {
        await using (var withToken = await LifecycleTestHost.StartAsync(
            options: o => o.PreStop.Token = "secret",
            settings: new Dictionary<string, string?> { ["KUBERNETES_SERVICE_HOST"] = "10.96.0.1" }))
        {
            Assert.DoesNotContain(withToken.Logs.Lines, l => l.Contains("[60]", StringComparison.Ordinal));
        }

        await using var outside = await LifecycleTestHost.StartAsync(settings: new Dictionary<string, string?> { ["KUBERNETES_SERVICE_HOST"] = string.Empty });
        Assert.DoesNotContain(outside.Logs.Lines, l => l.Contains("[60]", StringComparison.Ordinal));
    }

    private static HttpRequestMessage PreStopCall(LifecycleTestHost host, HttpMethod method, string hostHeader, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(method, new Uri(host.BaseAddress, "/prestop"));
        request.Headers.Host = hostHeader;
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    private sealed class TrustEveryProxy : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            var options = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto };
            options.KnownIPNetworks.Clear();
            options.KnownProxies.Clear();
            app.UseForwardedHeaders(options);
            next(app);
        };
    }
}
