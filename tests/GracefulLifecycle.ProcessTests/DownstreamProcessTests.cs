using GracefulLifecycle.TestSupport;

namespace GracefulLifecycle.ProcessTests;

/// <summary>
/// The sample's opt-in call to another service (<c>Sample:Downstream</c>) on real processes and a real etcd: one sample
/// calls <c>http://catalog</c> through an <c>HttpClient</c> with <c>.AddServiceDiscovery()</c>, resolved by the etcd
/// endpoint provider to the samples registered as <c>catalog</c>, from the same configuration section they register with.
/// </summary>
public sealed class DownstreamProcessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Downstream_ResolvedThroughEtcd_CallsTheRegisteredInstances_AndNotOneThatLeft()
    {
        await using var etcd = await EtcdServer.StartAsync();
        (string Key, string Value)[] Registered(string service) =>
        [
            ("GracefulLifecycle:Etcd:Endpoints", etcd.ClientUrl.ToString()),
            ("GracefulLifecycle:Etcd:ServiceName", service),
            ("GracefulLifecycle:Etcd:ServiceAddress", "127.0.0.1"),
            ("GracefulLifecycle:Etcd:ConsumerProfile", "Watch"),
            ("GracefulLifecycle:ShutdownDelay", "00:00:00.200"),
            ("GracefulLifecycle:DrainTimeout", "00:00:02"),
        ];
        await using var first = await SampleProcess.StartQuickAsync(output, Registered("catalog"));
        await using var second = await SampleProcess.StartQuickAsync(output, Registered("catalog"));
        await using var caller = await SampleProcess.StartQuickAsync(output, [.. Registered("orders"), ("Sample:Downstream", "http://catalog")]);
        using var client = SampleProcess.NewClient();
        foreach (var app in new[] { first, second, caller })
        {
            await app.WaitUntilReadyAsync(client, TimeSpan.FromSeconds(30));
        }

        // Off unless configured: the instances called have no such endpoint.
        using (var off = await client.GetAsync(new Uri(first.BaseAddress, "/downstream")))
        {
            Assert.Equal(System.Net.HttpStatusCode.NotFound, off.StatusCode);
        }

        Assert.Equal(200, (await CallAsync(client, caller)).Status);

        // The first leaves: the provider's watch drops it from the caller's list before it stops serving, and every
        // call after its exit goes to the second (a list that still held it would refuse every other call).
        first.Signal(SampleProcess.SIGTERM);
        Assert.Equal(0, await first.WaitForExitAsync(TimeSpan.FromSeconds(15)));
        for (var i = 0; i < 20; i++)
        {
            var (status, body) = await CallAsync(client, caller);
            Assert.True(status == 200, $"call {i} after the first instance exited: {status} {body}");
        }
    }

    private static async Task<(int Status, string Body)> CallAsync(HttpClient client, SampleProcess caller)
    {
        using var response = await client.GetAsync(new Uri(caller.BaseAddress, "/downstream"));
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
