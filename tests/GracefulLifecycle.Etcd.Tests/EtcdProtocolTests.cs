using System.Net;
using System.Text;
using System.Text.Json;
using GracefulLifecycle.Etcd.Tests.Infrastructure;
using GracefulLifecycle.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using static GracefulLifecycle.Etcd.Tests.Infrastructure.ScriptedHandler;

namespace GracefulLifecycle.Etcd.Tests;

/// <summary>
/// The adapter's own protocol on a scripted handler: how the gateway reads etcd's answers, and answers a real etcd
/// never gives, on which the gateway and the registry must fail safe. No traffic leaves the process.
/// </summary>
public sealed class EtcdProtocolTests
{
    private static readonly Uri First = new("http://user:s3cret@127.0.0.1:1/");
    private static readonly Uri Second = new("http://127.0.0.1:2/");

    [Theory]
    [InlineData("""{"ID":"7587853520410416651","TTL":"10"}""", 7587853520410416651L)]
    [InlineData("""{"ID":7587853520410416651}""", 7587853520410416651L)]
    [InlineData("""{"header":{}}""", 0L)]
    public void GatewayIntegers_AreReadFromStringsOrNumbers_AndZeroWhenLeftOut(string json, long expected)
    {
        using var document = JsonDocument.Parse(json);

        Assert.Equal(expected, EtcdGateway.ReadInt64(document.RootElement, "ID"));
    }

    [Fact]
    public async Task MalformedJson_CountsAsAFailedEndpoint_AndTheNextOneServes()
    {
        var handler = new ScriptedHandler(request => request.RequestUri!.Port == 1
            ? Answer(HttpStatusCode.OK, "<html>proxy error</html>")
            : Answer(HttpStatusCode.OK, """{"ID":"7","TTL":"10"}"""));
        var gateway = new EtcdGateway(() => new HttpClient(handler), [First, Second], NullLogger.Instance);

        var (status, body) = await gateway.PostAsync("v3/lease/grant", w => w.WriteNumber("TTL", 10), CancellationToken.None);

        using (body)
        {
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(7, EtcdGateway.ReadInt64(body.RootElement, "ID"));
        }

        Assert.Equal([1, 2], handler.Ports);
    }

    [Fact]
    public async Task ALeaseGrantedWithoutAnId_IsAnError_AndNoKeyIsWritten()
    {
        var handler = new ScriptedHandler(request => Answer(HttpStatusCode.OK, request.RequestUri!.AbsolutePath.EndsWith("grant", StringComparison.Ordinal)
            ? """{"header":{},"TTL":"10"}"""
            : "{}"));
        await using var provider = LifecycleTestServices.Build(
            configure: b => b.AddEtcd(),
            settings: new Dictionary<string, string?>
            {
                ["GracefulLifecycle:Etcd:Endpoints"] = Second.ToString(),
                ["GracefulLifecycle:Etcd:Port"] = "8080",
            },
            services: s => s.AddHttpClient(EtcdRegistry.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => handler),
            applicationName: "etcd-fault-tests");
        var registry = provider.Registry<EtcdRegistry>();

        await Assert.ThrowsAsync<HttpRequestException>(() => registry.RegisterAsync(provider, CancellationToken.None));

        Assert.DoesNotContain(handler.Paths, p => p.EndsWith("kv/put", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ARedirect_IsNotFollowed_AndCountsAsAFailedEndpoint()
    {
        var handler = new ScriptedHandler(request => request.RequestUri!.Port == 1
            ? new HttpResponseMessage(HttpStatusCode.TemporaryRedirect) { Headers = { Location = new Uri("http://127.0.0.1:3/v3/kv/put") } }
            : Answer(HttpStatusCode.OK, "{}"));
        var gateway = new EtcdGateway(() => new HttpClient(handler), [First, Second], NullLogger.Instance);

        var (status, body) = await gateway.PostAsync("v3/kv/put", _ => { }, CancellationToken.None);
        body.Dispose();

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal([1, 2], handler.Ports);
    }
}
