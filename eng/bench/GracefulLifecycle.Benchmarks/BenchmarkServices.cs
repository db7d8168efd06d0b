using GracefulLifecycle.Lifecycle;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace GracefulLifecycle.Benchmarks;

/// <summary>
/// The library's services as the host builds them (<c>AddLogging().AddGracefulLifecycle()</c>, no logging provider),
/// with a lifecycle moved to the phase a benchmark needs.
/// </summary>
internal static class BenchmarkServices
{
    public static ServiceProvider Create(LifecyclePhase phase, bool adaptive = false)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IHostApplicationLifetime, StubHostApplicationLifetime>();
        services.AddLogging().AddGracefulLifecycle(o => o.AdaptiveDelay.Enabled = adaptive);
        var provider = services.BuildServiceProvider();

        var lifecycle = provider.GetRequiredService<LifecycleCoordinator>();

        // No preload task and no registry: startup goes straight to Ready.
        lifecycle.RunStartupAsync(CancellationToken.None).GetAwaiter().GetResult();
        if (phase == LifecyclePhase.Leaving)
        {
            // Leaving starts at once; the phase stays Leaving after the delay, until the host stops (it never does here).
            _ = lifecycle.LeaveAsync();
        }

        if (lifecycle.Phase != phase)
        {
            throw new InvalidOperationException($"The lifecycle is {lifecycle.Phase}, not {phase}.");
        }

        return provider;
    }

    /// <summary>A context as Kestrel hands an HTTP/1.1 GET to the first middleware, reused by every call.</summary>
    public static DefaultHttpContext CreateContext(string path)
    {
        var context = new DefaultHttpContext();
        context.Request.Protocol = HttpProtocol.Http11;
        context.Request.Method = HttpMethods.Get;
        context.Request.Path = path;

        // The peer the adaptive delay counts the request for, as Kestrel sets it once per connection.
        context.Connection.RemoteIpAddress = System.Net.IPAddress.Loopback;
        context.Response.Body = Stream.Null;
        return context;
    }

    private sealed class StubHostApplicationLifetime : IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping => CancellationToken.None;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication()
        {
        }
    }
}
