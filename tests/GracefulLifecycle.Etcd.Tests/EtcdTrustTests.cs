using System.Net;
using GracefulLifecycle.Etcd.Tests.Infrastructure;
using GracefulLifecycle.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using static GracefulLifecycle.Etcd.Tests.Infrastructure.ScriptedHandler;

namespace GracefulLifecycle.Etcd.Tests;

/// <summary>
/// Credentials in an endpoint URL never reach an exception message nor follow a redirect, and an error answer is never
/// read whole.
/// </summary>
public sealed class EtcdTrustTests
{
    private static readonly Uri First = new("http://user:s3cret@127.0.0.1:1/");

    [Fact]
    public async Task AHugeErrorAnswer_IsNotReadWhole_AndNoCredentialReachesTheMessage()
    {
        var huge = new string('x', 10 * 1024 * 1024);
        var handler = new ScriptedHandler(_ => Answer(HttpStatusCode.InternalServerError, huge));
        var gateway = new EtcdGateway(() => new HttpClient(handler), [First], NullLogger.Instance);

        var failure = await Assert.ThrowsAsync<HttpRequestException>(() => gateway.PostAsync("v3/kv/put", _ => { }, CancellationToken.None));

        var messages = string.Join(" | ", Chain(failure).Select(e => e.Message));
        Assert.True(messages.Length < 4096, $"{messages.Length} characters of exception text");
        Assert.DoesNotContain("s3cret", messages, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnErrorAnswer_IsQuotedAtMostMaxExcerptChars_WithoutTheCredentials()
    {
        var handler = new ScriptedHandler(_ => Answer(HttpStatusCode.ServiceUnavailable, new string('y', 5000)));
        var gateway = new EtcdGateway(() => new HttpClient(handler), [First], NullLogger.Instance);

        var failure = await Assert.ThrowsAsync<HttpRequestException>(() => gateway.PostAsync("v3/kv/put", _ => { }, CancellationToken.None));

        // One endpoint: its own failure is thrown, with the status kept.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, failure.StatusCode);
        Assert.InRange(failure.Message.Length, 1, GracefulLifecycle.Transport.RegistryTransport.MaxExcerptChars + 200); // the excerpt, and the wording around it
        Assert.Contains("http://127.0.0.1:1/", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheRegisteredHttpClient_DoesNotFollowRedirects()
    {
        var services = new ServiceCollection();
        services.AddGracefulLifecycle().AddEtcd();
        using var provider = services.BuildServiceProvider();
        var (primary, client) = ClientPipeline.Inspect(provider, EtcdRegistry.HttpClientName);
        using var _ = client;

        Assert.False(Assert.IsType<SocketsHttpHandler>(primary).AllowAutoRedirect);
    }

    private static IEnumerable<Exception> Chain(Exception e)
    {
        for (var current = e; current is not null; current = current.InnerException)
        {
            yield return current;
        }
    }
}
