using System.Net;
using System.Net.Sockets;
using System.Text;
using GracefulLifecycle.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Tests.Draining;

/// <summary>
/// Connections whose request never reached the application, on real Kestrel and fake time (delay 5 s, drain 10 s):
/// the drain deadline aborts them, so Kestrel's stop does not wait for them until the host's own timeout.
/// </summary>
public sealed class ConnectionDrainTests
{
    [Fact]
    public async Task AConnectionWhoseHeadersNeverEnd_OnAnEndpointTheAppConfiguredBeforeTheLifecycle_IsAbortedAtTheDrainDeadline()
    {
        var time = new FakeTimeProvider();
        var logs = new CapturingLoggerProvider();
        var builder = WebApplication.CreateSlimBuilder();

        // The application's own endpoint, from a Listen call registered before AddGracefulLifecycle.
        builder.WebHost.ConfigureKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["GracefulLifecycle:ShutdownDelay"] = "00:00:05",
            ["GracefulLifecycle:DrainTimeout"] = "00:00:10",
        });
        builder.Logging.ClearProviders().AddProvider(logs);
        builder.Services.AddSingleton<TimeProvider>(time);
        builder.Services.AddGracefulLifecycle();
        await using var app = builder.Build();
        app.MapGracefulLifecycle();
        await app.StartAsync();
        var lifecycle = app.Services.GetRequiredService<IGracefulLifecycle>();
        await time.AdvanceUntilAsync(() => lifecycle.Phase == LifecyclePhase.Ready, "ready");
        var address = new Uri(app.Urls.Single());

        using var slow = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await slow.ConnectAsync(IPAddress.Loopback, address.Port);
        await slow.SendAsync(Encoding.ASCII.GetBytes("GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: a"));

        // Kestrel accepts in arrival order: a request answered on a later connection shows it holds the slow one.
        using (var client = new HttpClient())
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri(address, "/health"))).StatusCode);
        }

        var stop = app.StopAsync();
        await time.AdvanceUntilAsync(() => lifecycle.Draining.IsCancellationRequested, "the drain", TimeSpan.FromMilliseconds(500));

        // Nothing ends it before the deadline: Kestrel's stop waits for it.
        time.Advance(TimeSpan.FromSeconds(9.9));
        Assert.False(stop.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(0.1));
        await stop.WaitAsync(TimeSpan.FromSeconds(10));

        // The server closed it: the read ends (end of stream or reset), it does not wait for more.
        var closed = await ReadUntilClosedAsync(slow).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(closed);
        Assert.Contains(logs.Lines, l => l.Contains("[32]", StringComparison.Ordinal) && l.Contains("aborting the connections still open (1)", StringComparison.Ordinal));
    }

    private static async Task<bool> ReadUntilClosedAsync(Socket socket)
    {
        var buffer = new byte[1024];
        try
        {
            while (await socket.ReceiveAsync(buffer) > 0)
            {
                // Whatever Kestrel wrote before closing.
            }
        }
        catch (SocketException)
        {
            // Reset.
        }

        return true;
    }
}
