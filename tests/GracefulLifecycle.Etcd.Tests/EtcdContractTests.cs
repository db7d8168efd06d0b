using GracefulLifecycle.TestSupport;
using GracefulLifecycle.TestSupport.Contract;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.Etcd.Tests;

/// <summary>The etcd adapter against the contract every registry keeps, on a real etcd server.</summary>
public sealed class EtcdContractTests : ServiceRegistryContract
{
    private readonly CallCounter _calls = new();

    protected override IServiceRegistry CreateRegistry(Uri url, TimeProvider time)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(time);
        services.AddGracefulLifecycle().AddEtcd(o => o.Endpoints = url.ToString());

        // etcd does not count calls: the client does, on its way out.
        services.AddHttpClient(EtcdRegistry.HttpClientName).AddHttpMessageHandler(() => new CountingHandler(_calls));
        return Own(services.BuildServiceProvider()).GetRequiredService<IServiceRegistry>();
    }

    protected override async Task<IContractServer> StartServerAsync() => new Server(await EtcdServer.StartAsync(), _calls);

    private sealed class CallCounter
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public void Add() => Interlocked.Increment(ref _count);
    }

    private sealed class CountingHandler(CallCounter counter) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            counter.Add();
            return base.SendAsync(request, cancellationToken);
        }
    }

    private sealed class Server(EtcdServer etcd, CallCounter calls) : IContractServer
    {
        public Uri Url => etcd.ClientUrl;

        public int CallCount => calls.Count;

        public async Task ForgetAllAsync()
        {
            // A lease that expired during a partition: the key goes with it.
            var keys = await etcd.RangeAsync("/services/");
            Assert.NotEmpty(keys);
            foreach (var lease in keys.Select(k => k.Lease).Distinct())
            {
                await etcd.RevokeAsync(lease);
            }
        }

        public ValueTask DisposeAsync() => etcd.DisposeAsync();
    }
}
