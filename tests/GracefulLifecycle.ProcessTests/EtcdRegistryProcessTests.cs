using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using GracefulLifecycle.Testing;

namespace GracefulLifecycle.ProcessTests;

/// <summary>The sample registered in a real etcd, stopped with a real SIGTERM, watched through etcd itself.</summary>
public sealed class EtcdRegistryProcessTests(ITestOutputHelper output)
{
    private const string Prefix = "/services/sample/";

    [Fact]
    public async Task Sigterm_RemovesTheInstanceFromEtcdAtOnce_ThenServesThroughThePropagationDelay_ThenExits0()
    {
        await using var etcd = await EtcdServer.StartAsync();
        await using var app = await SampleProcess.StartAsync(
            output,
            ("Sample:PreloadDuration", "00:00:00.200"),
            ("GracefulLifecycle:ShutdownDelay", "00:00:01"),
            ("GracefulLifecycle:DrainTimeout", "00:00:02"),
            ("GracefulLifecycle:Etcd:Endpoints", etcd.ClientUrl.ToString()),
            ("GracefulLifecycle:Etcd:ServiceName", "sample"),
            ("GracefulLifecycle:Etcd:InstanceId", "p1"),
            ("GracefulLifecycle:Etcd:Address", "127.0.0.1"),
            ("GracefulLifecycle:Etcd:LeaseTtl", "00:00:05"),
            ("GracefulLifecycle:Etcd:ConsumerRefreshInterval", "00:00:02"));
        var propagation = TimeSpan.FromSeconds(3);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        await app.WaitUntilReadyAsync(client, TimeSpan.FromSeconds(30));

        var registered = Assert.Single(await etcd.RangeAsync(Prefix));
        using (var value = JsonDocument.Parse(registered.Value))
        {
            Assert.Equal(app.BaseAddress.Port, value.RootElement.GetProperty("port").GetInt32());
        }

        var clock = Stopwatch.StartNew();
        var answers = new ConcurrentQueue<(TimeSpan At, HttpStatusCode? Code)>();
        using var stopTraffic = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var traffic = Task.Run(async () =>
        {
            while (!stopTraffic.IsCancellationRequested)
            {
                try
                {
                    using var response = await client.GetAsync(new Uri(app.BaseAddress, "/"), stopTraffic.Token);
                    answers.Enqueue((clock.Elapsed, response.StatusCode));
                }
                catch (HttpRequestException)
                {
                    answers.Enqueue((clock.Elapsed, null));
                    return;
                }
            }
        });

        var signalled = clock.Elapsed;
        app.Signal(SampleProcess.SIGTERM);
        while ((await etcd.RangeAsync(Prefix)).Count > 0)
        {
            Assert.True(clock.Elapsed - signalled < TimeSpan.FromSeconds(5), "the key is still in etcd 5 s after SIGTERM");
        }

        var gone = clock.Elapsed - signalled;
        await traffic.WaitAsync(TimeSpan.FromSeconds(30));
        var exitCode = await app.WaitForExitAsync(TimeSpan.FromSeconds(30));

        var refused = answers.FirstOrDefault(a => a.Code is null);
        Measurements.Record(output.WriteLine, "etcd: SIGTERM -> key gone from etcd", gone.TotalMilliseconds);
        Measurements.Record(output.WriteLine, "etcd: SIGTERM -> first refused connection (propagation delay 3 s)", (refused.At - signalled).TotalMilliseconds);
        Assert.True(gone < TimeSpan.FromMilliseconds(500), $"the key went away {gone.TotalMilliseconds} ms after SIGTERM");
        Assert.All(answers.Where(a => a.Code is not null), a => Assert.Equal(HttpStatusCode.OK, a.Code));
        Assert.True(refused.At - signalled >= propagation, $"stopped listening {(refused.At - signalled).TotalMilliseconds} ms after SIGTERM, inside the propagation delay");
        Assert.Equal(0, exitCode);
        Assert.Contains("Shutdown delay 00:00:03 set by the propagation delay of etcd", app.Output, StringComparison.Ordinal);
    }
}
