using System.Reflection;
using System.Runtime.CompilerServices;
using GracefulLifecycle.TestSupport.Contract;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.WebhookRegistry.Tests;

/// <summary>
/// The sample adapter, written against the public packages only, through the same contract suite as the built-in
/// adapters.
/// </summary>
public sealed class WebhookRegistryContractTests : ServiceRegistryContract
{
    [Fact]
    public void TheCore_GrantsNoAdapterAccessToItsInternals()
    {
        var granted = typeof(IServiceRegistry).Assembly.GetCustomAttributes<InternalsVisibleToAttribute>().Select(a => a.AssemblyName).ToArray();

        Assert.DoesNotContain(typeof(WebhookRegistryOptions).Assembly.GetName().Name, granted);
        Assert.DoesNotContain(granted, name => name is "GracefulLifecycle.Eureka" or "GracefulLifecycle.Consul" or "GracefulLifecycle.Etcd");
    }

    [Fact]
    public async Task Register_SendsTheInstanceTheLifecycleHandsOver()
    {
        var webhook = Own(await FakeWebhook.StartAsync());
        var registry = CreateRegistry(webhook.Url, Time);

        await registry.RegisterAsync(Instance, CancellationToken.None);

        var body = webhook.Instance("contract-app-contract-host-8080");
        Assert.NotNull(body);
        Assert.Contains("\"readinessUrl\":\"http://127.0.0.1:8080/ifready\"", body, StringComparison.Ordinal);
    }

    protected override IServiceRegistry CreateRegistry(Uri url, TimeProvider time)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(time);
        services.AddGracefulLifecycle().AddWebhookRegistry(o => o.Url = url.ToString());
        return Own(services.BuildServiceProvider()).GetRequiredService<IServiceRegistry>();
    }

    protected override async Task<IContractServer> StartServerAsync() => new Server(await FakeWebhook.StartAsync());

    private sealed class Server(FakeWebhook webhook) : IContractServer
    {
        public Uri Url => webhook.Url;

        public int CallCount => webhook.Calls.Count;

        public Task ForgetAllAsync()
        {
            // The contract's instance: {app}-{host}-{port}.
            Assert.True(webhook.Forget("contract-app-contract-host-8080"));
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync() => webhook.DisposeAsync();
    }
}
