using GracefulLifecycle.Kubernetes;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.TestSupport.Kubernetes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Kubernetes.Tests;

public sealed class PodReaderTests
{
    [Fact]
    public async Task ReadAsync_FakeApiServer_ParsesThePodWithTheServiceAccountToken()
    {
        await using var api = await FakeKubernetesApiServer.StartAsync();
        api.UpdatePod(p => p.Container.PreStop = FakeHandler.Sleep(5));
        await using var services = Services(api.Configuration);

        var result = await services.GetRequiredService<PodReader>().ReadAsync(CancellationToken.None);

        Assert.Null(result.Failure);
        var pod = Assert.IsType<KubernetesPod>(result.Pod);
        Assert.Equal(api.Pod.Name, pod.Name);
        Assert.Equal(30, pod.GracePeriodSeconds);
        var container = Assert.Single(pod.Containers);
        Assert.Equal("/ifready", container.ReadinessProbe!.Handler.HttpGet!.Path);
        Assert.Equal(8080, container.ResolvePort(container.ReadinessProbe.Handler.HttpGet.Port));
        Assert.Equal(5, container.PreStop!.SleepSeconds);
        var request = Assert.Single(api.Requests);
        Assert.Equal($"/api/v1/namespaces/{api.Pod.Namespace}/pods/{api.Pod.Name}", request.Path);
        Assert.Equal("Bearer " + api.Token, request.Authorization);
    }

    internal static ServiceProvider Services(
        IReadOnlyDictionary<string, string?> settings, KubernetesEnvironment? environment = null, CapturingLoggerProvider? logs = null, TimeProvider? time = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddLogging(b => b.ClearProviders().AddProvider(logs ?? new CapturingLoggerProvider()).SetMinimumLevel(LogLevel.Debug));
        if (time is not null)
        {
            services.AddSingleton(time);
        }

        services.AddSingleton(environment ?? new KubernetesEnvironment(_ => null, "/nonexistent/serviceaccount"));
        services.AddGracefulLifecycle().AddKubernetes();
        return services.BuildServiceProvider();
    }
}
