using GracefulLifecycle.TestSupport.Consul;
using GracefulLifecycle.TestSupport.Contract;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.Consul.Tests;

/// <summary>The Consul adapter against the contract every registry keeps, on the fake Consul agent.</summary>
public sealed class ConsulContractTests : ServiceRegistryContract
{
    protected override IServiceRegistry CreateRegistry(Uri url, TimeProvider time)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(time);
        services.AddGracefulLifecycle().AddConsul(o => o.Address = url.ToString());
        return Own(services.BuildServiceProvider()).GetRequiredService<IServiceRegistry>();
    }

    protected override async Task<IContractServer> StartServerAsync() => new Server(await FakeConsulAgent.StartAsync());

    private sealed class Server(FakeConsulAgent agent) : IContractServer
    {
        public Uri Url => agent.Address;

        public int CallCount => agent.Calls.Count;

        public Task ForgetAllAsync()
        {
            // The contract's instance: {service}-{host}-{port}.
            Assert.True(agent.Forget("contract-app-contract-host-8080"));
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync() => agent.DisposeAsync();
    }
}
