using System.Net;
using System.Net.Sockets;
using GracefulLifecycle.Eureka.Tests.Infrastructure;
using GracefulLifecycle.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.Eureka.Tests;

/// <summary>Credentials in server URLs stay out of logs and messages; redirects are not followed.</summary>
public sealed class EurekaTrustTests
{
    [Fact]
    public async Task CredentialsInServiceUrls_NeverReachLogsOrExceptionMessages()
    {
        // Two loopback ports nothing listens on: every call fails over, then fails, with every URL named.
        var (a, b) = (ClosedPort(), ClosedPort());
        using var h = EurekaTestBed.Resolve(o => o.ServiceUrl = $"http://admin:s3cret@127.0.0.1:{a}/eureka/,http://eu:hunter2@127.0.0.1:{b}/eureka/");

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => h.Registry<EurekaRegistry>().RegisterAsync(h.Services, CancellationToken.None));

        var messages = string.Join(" | ", Chain(failure).Select(e => e.Message));
        Assert.Contains($"127.0.0.1:{a}", messages, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", messages, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", messages, StringComparison.Ordinal);
        Assert.Contains(h.Logs.Lines, l => l.Contains($"127.0.0.1:{a}", StringComparison.Ordinal));
        Assert.DoesNotContain(h.Logs.Lines, l => l.Contains("s3cret", StringComparison.Ordinal) || l.Contains("hunter2", StringComparison.Ordinal));
    }

    [Fact]
    public void TheRegisteredHttpClient_DoesNotFollowRedirects_AndCapsWhatItBuffers()
    {
        using var h = EurekaTestBed.Resolve(o => o.ServiceUrl = "http://127.0.0.1:1/eureka/");
        var (primary, client) = ClientPipeline.Inspect(h.Services, EurekaRegistry.HttpClientName);
        using var _ = client;

        Assert.False(Assert.IsType<SocketsHttpHandler>(primary).AllowAutoRedirect);
        Assert.Equal(64 * 1024, client.MaxResponseContentBufferSize);
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static IEnumerable<Exception> Chain(Exception e)
    {
        var pending = new Stack<Exception>([e]);
        while (pending.Count > 0)
        {
            var current = pending.Pop();
            yield return current;
            if (current is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    pending.Push(inner);
                }
            }
            else if (current.InnerException is { } inner)
            {
                pending.Push(inner);
            }
        }
    }
}
