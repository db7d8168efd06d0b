using GracefulLifecycle.TestSupport.Contract;
using GracefulLifecycle.TestSupport.Eureka;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.Eureka.Tests;

/// <summary>The Eureka adapter against the contract every registry keeps, on the fake Eureka server.</summary>
public sealed class EurekaContractTests : ServiceRegistryContract
{
    protected override IServiceRegistry CreateRegistry(Uri url, TimeProvider time)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(time);
        services.AddGracefulLifecycle().AddEureka(o => o.ServiceUrl = url.ToString());
        return Own(services.BuildServiceProvider()).GetRequiredService<IServiceRegistry>();
    }

    protected override async Task<IContractServer> StartServerAsync() => new Server(await FakeEurekaServer.StartAsync(Time));

    private sealed class Server(FakeEurekaServer eureka) : IContractServer
    {
        public Uri Url => new(eureka.ServiceUrl);

        public int CallCount => eureka.Calls.Count;

        public Task ForgetAllAsync()
        {
            // The contract's instance: id {host}:{app}:{port} as Spring Cloud builds it.
            Assert.True(eureka.Forget("contract-host:contract-app:8080"));
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync() => eureka.DisposeAsync();
    }
}
