using System.Net;
using System.Text;
using GracefulLifecycle.Eureka.Tests.Infrastructure;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.TestSupport.Eureka;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.Eureka.Tests;

/// <summary>
/// Secured Eureka servers (Spring Security's basic authentication, credentials in the service URL as Spring Cloud
/// writes them), against fake servers that answer 401 without the right credentials: each server gets its own
/// credentials and no other's, a 401 fails over, and the credentials reach no log, message or handler.
/// </summary>
public sealed class EurekaCredentialsTests : IAsyncLifetime
{
    private readonly EurekaTestBed _bed = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _bed.DisposeAsync().AsTask();

    [Fact]
    public async Task SecuredServer_TheCredentialsInItsUrl_GoAsBasicOnTheRegistrationEveryHeartbeatAndTheCancel()
    {
        // Characters that must be percent-encoded in a URL, and one outside ASCII: decoded, then sent as UTF-8.
        const string Password = "p@ss:w/rd€";
        var server = await SecuredServerAsync("eureka", Password);
        var h = _bed.Harness(o => o.ServiceUrl = server.ServiceUrlWithCredentials("eureka", Password));

        await h.Registry<EurekaRegistry>().RegisterAsync(h.Services, CancellationToken.None);
        Assert.True(await h.Registry<EurekaRegistry>().RenewAsync(CancellationToken.None));
        Assert.True(await h.Registry<EurekaRegistry>().RenewAsync(CancellationToken.None));
        await h.Registry<EurekaRegistry>().DeregisterAsync(new DeregistrationContext(TimeSpan.FromMilliseconds(1500)), CancellationToken.None);

        Assert.Equal(["POST 204", "PUT 200", "PUT 200", "DELETE 200"], server.Calls.Select(c => $"{c.Method} {c.StatusCode}"));
        Assert.All(server.Calls, c => Assert.Equal(Basic("eureka", Password), c.Authorization));
        Assert.Equal(0, server.InstanceCount);
    }

    [Fact]
    public async Task SecuredServer_NoCredentialsInItsUrl_FailsWith401_SayingTheUrlHasNone()
    {
        var server = await SecuredServerAsync("eureka", "s3cret");
        var h = _bed.Harness(o => o.ServiceUrl = server.ServiceUrl);

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => h.Registry<EurekaRegistry>().RegisterAsync(h.Services, CancellationToken.None));

        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.Contains($"{server.ServiceUrl} answered POST /eureka/apps/ORDERS with 401 Unauthorized (it wants credentials and its URL has none", error.Message, StringComparison.Ordinal);
        Assert.Null(Assert.Single(server.Calls).Authorization);
        Assert.Equal(0, server.InstanceCount);
    }

    [Fact]
    public async Task EachServer_GetsItsOwnCredentialsOrNone_AndA401FailsOverToTheNext_WithoutAPasswordInLogsOrMessages()
    {
        var refusing = await SecuredServerAsync("eureka-a", "right-a");
        var secured = await SecuredServerAsync("eureka-b", "right-b");
        var open = await _bed.ServerAsync();
        var h = _bed.Harness(o => o.ServiceUrl = string.Join(
            ",", refusing.ServiceUrlWithCredentials("eureka-a", "wrong-a"), secured.ServiceUrlWithCredentials("eureka-b", "right-b"), open.ServiceUrl));

        await h.Registry<EurekaRegistry>().RegisterAsync(h.Services, CancellationToken.None);

        Assert.Equal("POST apps/ORDERS -> 401", Assert.Single(refusing.Calls).ToString());
        Assert.Equal(Basic("eureka-a", "wrong-a"), refusing.Calls[0].Authorization);
        Assert.Equal("POST apps/ORDERS -> 204", Assert.Single(secured.Calls).ToString());
        Assert.Equal(Basic("eureka-b", "right-b"), secured.Calls[0].Authorization);
        Assert.Contains(h.Logs.Lines, l => l.Contains("EurekaRegistry[100]", StringComparison.Ordinal) && l.Contains("401 Unauthorized", StringComparison.Ordinal));

        // The second server fails: the third, which has no credentials in its URL, gets none of the others'.
        secured.FailWith(503);
        await h.Registry<EurekaRegistry>().RegisterAsync(h.Services, CancellationToken.None);
        Assert.True(await h.Registry<EurekaRegistry>().RenewAsync(CancellationToken.None));

        Assert.Equal(["POST 204", "PUT 200"], open.Calls.Select(c => $"{c.Method} {c.StatusCode}"));
        Assert.All(open.Calls, c => Assert.Null(c.Authorization));

        // The passwords change on every server: each refuses, the error names each one, and no password shows anywhere.
        secured.FailWith(null);
        secured.RequireCredentials("eureka-b", "rotated-b");
        open.RequireCredentials("eureka-c", "rotated-c");
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => h.Registry<EurekaRegistry>().RegisterAsync(h.Services, CancellationToken.None));
        var messages = Errors.AllMessages(error);
        Assert.Contains(refusing.ServiceUrl, messages, StringComparison.Ordinal);
        Assert.Contains("(it refused the credentials in its URL)", messages, StringComparison.Ordinal);
        Assert.Contains(open.ServiceUrl, messages, StringComparison.Ordinal);
        foreach (var secret in new[] { "wrong-a", "right-b" })
        {
            Assert.DoesNotContain(secret, messages, StringComparison.Ordinal);
            Assert.DoesNotContain(h.Logs.Lines, l => l.Contains(secret, StringComparison.Ordinal));
        }

        Assert.Contains(h.Logs.Lines, l => l.Contains(secured.ServiceUrl, StringComparison.Ordinal));
    }

    [Fact]
    public async Task HandlersInTheClientPipeline_SeeTheRequestWithoutUserInfo_AndTheCredentialsOnlyInTheHeader()
    {
        var server = await SecuredServerAsync("eureka", "s3cret");
        var seen = new List<(Uri? Url, string? Authorization)>();
        var h = _bed.Harness(
            o => o.ServiceUrl = server.ServiceUrlWithCredentials("eureka", "s3cret"),
            services: s => s.AddHttpClient(EurekaRegistry.HttpClientName).AddHttpMessageHandler(() => new Recorder(seen)));

        await h.Registry<EurekaRegistry>().RegisterAsync(h.Services, CancellationToken.None);

        var (url, authorization) = Assert.Single(seen);
        Assert.Equal(string.Empty, url!.UserInfo);
        Assert.Equal($"{server.ServiceUrl}apps/ORDERS", url.AbsoluteUri);
        Assert.Equal(Basic("eureka", "s3cret"), authorization);
        Assert.Equal(204, Assert.Single(server.Calls).StatusCode);
    }

    [Fact]
    public async Task Lifecycle_AgainstASecuredServer_EveryCallCarriesTheCredentials_AndARefusalIsLoggedWithoutThem()
    {
        const string Password = "pw-in-the-url";
        await using var s = await EurekaScenario.StartAsync(
            eureka: o => o.ServiceUrl = o.ServiceUrl.Replace("http://", $"http://eureka:{Password}@", StringComparison.Ordinal),
            holdPreload: true);
        s.Eureka.RequireCredentials("eureka", Password);
        s.Preload.SetResult();
        await s.ReadyAsync();
        await s.HeartbeatsAsync(2);

        // The server's password changes: heartbeats are refused and logged as failed, without the URL's password.
        s.Eureka.RequireCredentials("eureka", "rotated");
        await s.AdvanceUntilAsync(() => s.Logs.Contains("401 Unauthorized (it refused the credentials in its URL)"), "a refused heartbeat logged");
        s.Eureka.RequireCredentials("eureka", Password);
        await Eventually.DoneAsync(s.Host.StopAsync(), "the host stops");

        var calls = s.Eureka.Calls;
        Assert.Equal("POST apps/ORDERS -> 204", calls[0].ToString());
        Assert.Contains(calls, c => c is { Method: "PUT", StatusCode: 401 });
        Assert.Equal($"DELETE apps/ORDERS/{s.InstanceId} -> 200", calls[^1].ToString());
        Assert.All(calls, c => Assert.Equal(Basic("eureka", Password), c.Authorization));
        Assert.Contains(s.Logs.Lines, l => l.Contains("RenewalFailed", StringComparison.Ordinal) || l.Contains("[24]", StringComparison.Ordinal));
        Assert.DoesNotContain(s.Logs.Lines, l => l.Contains(Password, StringComparison.Ordinal));
    }

    private static string Basic(string user, string password) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password));

    private async Task<FakeEurekaServer> SecuredServerAsync(string user, string password)
    {
        var server = await _bed.ServerAsync();
        server.RequireCredentials(user, password);
        return server;
    }

    private sealed class Recorder(List<(Uri? Url, string? Authorization)> seen) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (seen)
            {
                seen.Add((request.RequestUri, request.Headers.Authorization?.ToString()));
            }

            return base.SendAsync(request, cancellationToken);
        }
    }
}
