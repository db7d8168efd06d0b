using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using GracefulLifecycle.TestSupport;

namespace GracefulLifecycle.ProcessTests;

/// <summary>
/// Faults on real processes, each with a bounded outcome and nothing lost: signal storms, a crowd of preStop calls,
/// malformed requests, and a real etcd paused or restarted. Every wait has a deadline; nothing sleeps to synchronise.
/// </summary>
public sealed partial class FaultDrillTests(ITestOutputHelper output)
{
    private const string Prefix = "/services/sample/";

    [Fact]
    public async Task ASigtermStorm_RunsOneSequence_AndExits0InBoundedTime()
    {
        await using var app = await SampleProcess.StartAsync(
            output, ("Sample:PreloadDuration", "00:00:00"), ("GracefulLifecycle:ShutdownDelay", "00:00:05"), ("GracefulLifecycle:DrainTimeout", "00:00:02"));
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        await app.WaitUntilReadyAsync(client, TimeSpan.FromSeconds(30));

        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 50; i++)
        {
            app.Signal(SampleProcess.SIGTERM);
        }

        var exitCode = await app.WaitForExitAsync(TimeSpan.FromSeconds(20));

        Measurements.Record(output.WriteLine, "drill: 50 SIGTERMs -> exit", clock.Elapsed.TotalMilliseconds);
        Assert.Equal(0, exitCode);
        Assert.Single(LeavingLines().Matches(app.Output));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(9), $"exit took {clock.Elapsed}: more than the delay plus the drain");
    }

    [Fact]
    public async Task TwoHundredConcurrentPreStopCalls_FromAllowedAndRefusedCallers_PlusSigterm_OneSequenceOneDeregistration()
    {
        await using var etcd = await EtcdServer.StartAsync();
        await using var app = await StartWithEtcdAsync(etcd);
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { Timeout = TimeSpan.FromSeconds(30) };
        await app.WaitUntilReadyAsync(client, TimeSpan.FromSeconds(30));
        await WaitAsync(async () => (await etcd.RangeAsync(Prefix)).Count == 1, "registered in etcd");
        var before = app.ResidentBytes() ?? 0;

        // Even calls come from loopback as the kubelet's exec hook would; odd ones as a browser on behalf of another site.
        var calls = Enumerable.Range(0, 200).Select(async i =>
        {
            using var request = new HttpRequestMessage(i % 2 == 0 ? HttpMethod.Post : HttpMethod.Get, new Uri(app.BaseAddress, "/prestop"));
            if (i % 2 == 1)
            {
                request.Headers.Add("Sec-Fetch-Site", "cross-site");
            }

            using var response = await client.SendAsync(request);
            return (Allowed: i % 2 == 0, response.StatusCode);
        }).ToArray();
        app.Signal(SampleProcess.SIGTERM);

        var refused = await Task.WhenAll(calls.Where((_, i) => i % 2 == 1));
        var during = app.ResidentBytes();
        var answers = await Task.WhenAll(calls);
        var exitCode = await app.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.All(refused, a => Assert.Equal(HttpStatusCode.Forbidden, a.StatusCode));
        Assert.All(answers.Where(a => a.Allowed), a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        Assert.Equal(0, exitCode);
        Assert.Single(LeavingLines().Matches(app.Output));
        Assert.Single(DeregisteredLines().Matches(app.Output));
        Assert.Empty(await etcd.RangeAsync(Prefix));
        if (during is { } rss)
        {
            var growth = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"drill: RSS growth during 200 /prestop calls: {(rss - before) / 1024.0:F0} KiB");
            output.WriteLine(growth);
            Measurements.Append(growth);
            Assert.True(rss - before < 100L * 1024 * 1024, $"RSS grew by {(rss - before) / 1024 / 1024} MiB");
        }
    }

    [Fact]
    public async Task MalformedRawRequests_ToEveryEndpoint_ChangeNothing_AndTheProcessKeepsServing()
    {
        await using var app = await SampleProcess.StartAsync(output, ("Sample:PreloadDuration", "00:00:00"));
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        await app.WaitUntilReadyAsync(client, TimeSpan.FromSeconds(30));

        foreach (var path in new[] { "/health", "/ifready", "/prestop" })
        {
            foreach (var payload in MalformedRequests(path))
            {
                var answer = await SendRawAsync(app.BaseAddress.Port, payload);
                // Kestrel refuses (4xx, or 505 for an unknown version), resets, or (to the HTTP/2 preface on a port that
                // also speaks HTTP/2) answers with binary HTTP/2 frames; it never hands such a request to the app.
                var refused = answer.Length == 0 || answer.StartsWith("HTTP/1.1 4", StringComparison.Ordinal) ||
                    answer.StartsWith("HTTP/1.1 505", StringComparison.Ordinal) || !answer.StartsWith("HTTP/", StringComparison.Ordinal);
                Assert.True(refused, $"{Escape(payload)} got: {answer.Split('\n')[0]}");
            }
        }

        using var ready = await client.GetAsync(new Uri(app.BaseAddress, "/ifready"));
        using var live = await client.GetAsync(new Uri(app.BaseAddress, "/health"));
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (ready.StatusCode, live.StatusCode));
        Assert.False(app.HasExited);
        Assert.Empty(LeavingLines().Matches(app.Output));
    }

    [Fact]
    public async Task EtcdPausedWhileTheInstanceShutsDown_TheDeregistrationIsBounded_AndTheLeaseExpiresAfterwards()
    {
        await using var etcd = await EtcdServer.StartAsync();
        await using var app = await StartWithEtcdAsync(etcd);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        await app.WaitUntilReadyAsync(client, TimeSpan.FromSeconds(30));
        await WaitAsync(async () => (await etcd.RangeAsync(Prefix)).Count == 1, "registered in etcd");

        var etcdPid = etcd.ProcessId;
        SampleProcess.Signal(etcdPid, SampleProcess.SIGSTOP);
        try
        {
            var clock = Stopwatch.StartNew();
            app.Signal(SampleProcess.SIGTERM);
            var exitCode = await app.WaitForExitAsync(TimeSpan.FromSeconds(30));

            // Deregistration budget 2 s + delay 3 s + drain (idle) + margin: well under the 10 s grace period set.
            Measurements.Record(output.WriteLine, "drill: SIGTERM with etcd paused -> exit", clock.Elapsed.TotalMilliseconds);
            Assert.Equal(0, exitCode);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"exit took {clock.Elapsed}");
            Assert.Contains("did not finish within", app.Output, StringComparison.Ordinal);
        }
        finally
        {
            SampleProcess.Signal(etcdPid, SampleProcess.SIGCONT);
        }

        // The revoke never arrived: the lease (TTL 5 s) removes the key; consumers then stop finding the instance.
        var resumed = Stopwatch.StartNew();
        await WaitAsync(async () => (await etcd.RangeAsync(Prefix)).Count == 0, "the key expiring with its lease", TimeSpan.FromSeconds(15));
        Measurements.Record(output.WriteLine, "drill: etcd resumed -> key gone (lease TTL 5 s)", resumed.Elapsed.TotalMilliseconds);
    }

    [Fact]
    public async Task EtcdKilledAndRestartedMidRun_TheInstanceIsListedAgain_WithinTheLeaseTtlPlusARefresh()
    {
        await using var etcd = await EtcdServer.StartAsync();
        await using var app = await StartWithEtcdAsync(etcd);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        await app.WaitUntilReadyAsync(client, TimeSpan.FromSeconds(30));
        await WaitAsync(async () => (await etcd.RangeAsync(Prefix)).Count == 1, "registered in etcd");

        await etcd.StopAsync();
        await app.WaitForLogAsync("Renewing the registration with etcd failed", TimeSpan.FromSeconds(15));
        await etcd.RestartAsync();
        var restarted = Stopwatch.StartNew();

        // LeaseTtl 5 s + consumer refresh 2 s, and a second of slack for this machine.
        await WaitAsync(async () => (await etcd.RangeAsync(Prefix)).Count == 1, "listed again", TimeSpan.FromSeconds(8));
        Measurements.Record(output.WriteLine, "drill: etcd restarted -> instance listed", restarted.Elapsed.TotalMilliseconds);
        using (var ready = await client.GetAsync(new Uri(app.BaseAddress, "/ifready")))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        app.Signal(SampleProcess.SIGTERM);
        Assert.Equal(0, await app.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Empty(await etcd.RangeAsync(Prefix));
    }

    [Fact]
    public async Task EtcdDownAtStart_TheInstanceBecomesReadyAfterTheStartupTimeout_AndRegistersOnceEtcdIsUp()
    {
        await using var etcd = await EtcdServer.StartAsync();
        await etcd.StopAsync();
        await using var app = await StartWithEtcdAsync(etcd, ("GracefulLifecycle:Registration:StartupTimeout", "00:00:02"));
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        await app.WaitUntilReadyAsync(client, TimeSpan.FromSeconds(30));
        Assert.Contains("reporting ready anyway and retrying in the background", app.Output, StringComparison.Ordinal);

        await etcd.RestartAsync();
        await WaitAsync(async () => (await etcd.RangeAsync(Prefix)).Count == 1, "registered once etcd is up", TimeSpan.FromSeconds(20));

        app.Signal(SampleProcess.SIGTERM);
        Assert.Equal(0, await app.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Empty(await etcd.RangeAsync(Prefix));
    }

    [Fact]
    public async Task ASlowRegistry_EveryCallAnsweredAfterASecond_RegistersAndDeregistersWithinTheBudget()
    {
        await using var eureka = await GracefulLifecycle.TestSupport.Eureka.FakeEurekaServer.StartAsync(TimeProvider.System, TimeSpan.FromSeconds(1));
        eureka.OnCall = _ => Task.Delay(TimeSpan.FromSeconds(1));
        await using var app = await SampleProcess.StartAsync(
            output,
            ("Sample:PreloadDuration", "00:00:00"),
            ("GracefulLifecycle:ShutdownDelay", "00:00:01"),
            ("GracefulLifecycle:DrainTimeout", "00:00:02"),
            ("GracefulLifecycle:Eureka:ServiceUrl", eureka.ServiceUrl),
            ("GracefulLifecycle:Eureka:AppName", "sample"),
            ("GracefulLifecycle:Eureka:InstanceId", "slow1"),
            ("GracefulLifecycle:Eureka:IpAddress", "127.0.0.1"),
            ("GracefulLifecycle:Eureka:LeaseRenewalIntervalInSeconds", "1"),
            ("GracefulLifecycle:Eureka:LeaseExpirationDurationInSeconds", "5"),
            ("GracefulLifecycle:Eureka:ResponseCacheUpdateIntervalMs", "1000"),
            ("GracefulLifecycle:Eureka:RegistryFetchIntervalSeconds", "1"),
            ("GracefulLifecycle:Eureka:LoadBalancerCacheTtl", "00:00:00"));
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        await app.WaitUntilReadyAsync(client, TimeSpan.FromSeconds(30));
        await WaitAsync(() => Task.FromResult(eureka.CallsTo("PUT").Count >= 2), "heartbeats to the slow server");

        var clock = Stopwatch.StartNew();
        app.Signal(SampleProcess.SIGTERM);
        var exitCode = await app.WaitForExitAsync(TimeSpan.FromSeconds(30));

        // Deregistration 2 s + propagation delay 2.5 s + drain (idle) + margin: the default 30 s grace period is far.
        Measurements.Record(output.WriteLine, "drill: slow Eureka (1 s per call), SIGTERM -> exit", clock.Elapsed.TotalMilliseconds);
        Assert.Equal(0, exitCode);
        var delete = Assert.Single(eureka.CallsTo("DELETE"));
        Assert.DoesNotContain(eureka.Calls, c => c.Sequence > delete.Sequence);
        Assert.Null(eureka.Instance("sample", "slow1"));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"exit took {clock.Elapsed}");
    }

    private static IEnumerable<byte[]> MalformedRequests(string path)
    {
        var ascii = Encoding.ASCII;
        yield return ascii.GetBytes($"GET {path} HTTP/9.9\r\nHost: x\r\n\r\n");
        yield return ascii.GetBytes($"GET {path}\0 HTTP/1.1\r\nHost: x\r\n\r\n");
        yield return ascii.GetBytes($"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcde");
        yield return ascii.GetBytes($"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n");
        yield return ascii.GetBytes($"GET {path} HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
        yield return ascii.GetBytes($"GET {path} HTTP/1.1\r\nHost: x\r\nX-Big: {new string('a', 64 * 1024)}\r\n\r\n");
        yield return ascii.GetBytes($"G\x01T {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        yield return ascii.GetBytes($"GET {path} HTTP/1.1\r\nHost: x\r\nBad Header Name: y\r\n\r\n");
        yield return ascii.GetBytes($"GET {path} HTTP/1.1\r\nHost: x\r\n"); // truncated, then closed
        yield return [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]; // a TLS hello on plain HTTP
        yield return ascii.GetBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\xff\xff\xff\xff\xff\xff\xff\xff\xff");
    }

    private static async Task<string> SendRawAsync(int port, byte[] payload)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await socket.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
        await socket.SendAsync(payload, SocketFlags.None, timeout.Token);
        socket.Shutdown(SocketShutdown.Send);
        var received = new List<byte>();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
            {
                received.AddRange(buffer.AsSpan(0, read).ToArray());
            }
        }
        catch (SocketException)
        {
            // Reset by the server: an answer too.
        }

        return Encoding.ASCII.GetString([.. received]);
    }

    private static string Escape(byte[] payload) => Encoding.ASCII.GetString(payload, 0, Math.Min(payload.Length, 60)).Replace("\r\n", "\\r\\n", StringComparison.Ordinal);

    private static async Task WaitAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(deadline.Elapsed < (timeout ?? TimeSpan.FromSeconds(15)), $"timed out waiting for: {what}");
            await Task.Delay(50);
        }
    }

    private Task<SampleProcess> StartWithEtcdAsync(EtcdServer etcd, params (string Key, string Value)[] more) =>
        SampleProcess.StartAsync(
            output,
            [
                ("Sample:PreloadDuration", "00:00:00"),
                ("GracefulLifecycle:ShutdownDelay", "00:00:01"),
                ("GracefulLifecycle:DrainTimeout", "00:00:02"),
                ("GracefulLifecycle:TerminationGracePeriod", "00:00:10"),
                ("GracefulLifecycle:Etcd:Endpoints", etcd.ClientUrl.ToString()),
                ("GracefulLifecycle:Etcd:ServiceName", "sample"),
                ("GracefulLifecycle:Etcd:InstanceId", "d1"),
                ("GracefulLifecycle:Etcd:ServiceAddress", "127.0.0.1"),
                ("GracefulLifecycle:Etcd:LeaseTtl", "00:00:05"),
                ("GracefulLifecycle:Etcd:ConsumerRefreshInterval", "00:00:02"),
                ("GracefulLifecycle:Etcd:LoadBalancerCacheTtl", "00:00:00"),
                ("GracefulLifecycle:Etcd:RequestTimeout", "00:00:05"),
                .. more,
            ]);

    [GeneratedRegex(@"Leaving \((?!after )")]
    private static partial Regex LeavingLines();

    [GeneratedRegex(@"Deregistered from etcd")]
    private static partial Regex DeregisteredLines();
}
