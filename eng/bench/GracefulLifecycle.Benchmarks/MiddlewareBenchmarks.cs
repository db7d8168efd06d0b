using BenchmarkDotNet.Attributes;
using GracefulLifecycle.Draining;
using GracefulLifecycle.Lifecycle;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.Benchmarks;

/// <summary>
/// <see cref="LifecycleMiddleware.InvokeAsync"/>, the code every request runs through, on a reused context with a
/// <c>next</c> that has already completed: what the library adds to a request, against a pass-through middleware.
/// </summary>
[ShortRunJob]
[MemoryDiagnoser]
public class MiddlewareBenchmarks
{
    private static readonly RequestDelegate Completed = static _ => Task.CompletedTask;

    private ServiceProvider? _ready;
    private ServiceProvider? _leaving;
    private ServiceProvider? _adaptive;
    private Func<HttpContext, Task> _inReadyAdaptive = Completed.Invoke;
    private Func<HttpContext, Task> _passThrough = Completed.Invoke;
    private Func<HttpContext, Task> _inReady = Completed.Invoke;
    private Func<HttpContext, Task> _inLeaving = Completed.Invoke;
    private DefaultHttpContext _context = new();

    [GlobalSetup]
    public void Setup()
    {
        _ready = BenchmarkServices.Create(LifecyclePhase.Ready);
        _leaving = BenchmarkServices.Create(LifecyclePhase.Leaving);
        _passThrough = new PassThroughMiddleware(Completed).InvokeAsync;
        _inReady = Middleware(_ready).InvokeAsync;
        _inLeaving = Middleware(_leaving).InvokeAsync;
        _adaptive = BenchmarkServices.Create(LifecyclePhase.Ready, adaptive: true);
        _inReadyAdaptive = Middleware(_adaptive).InvokeAsync;
        _context = BenchmarkServices.CreateContext("/");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ready?.Dispose();
        _leaving?.Dispose();
        _adaptive?.Dispose();
    }

    [Benchmark(Baseline = true, Description = "Pass-through middleware")]
    public Task PassThrough() => _passThrough(_context);

    [Benchmark(Description = "LifecycleMiddleware, Ready")]
    public Task Ready() => _inReady(_context);

    /// <summary>With the adaptive delay on, every request before leaving is counted for its peer.</summary>
    [Benchmark(Description = "LifecycleMiddleware, Ready, AdaptiveDelay on")]
    public Task ReadyAdaptive() => _inReadyAdaptive(_context);

    /// <summary>Leaving adds <c>Connection: close</c> to the HTTP/1.1 response.</summary>
    [Benchmark(Description = "LifecycleMiddleware, Leaving")]
    public Task Leaving() => _inLeaving(_context);

    private static LifecycleMiddleware Middleware(IServiceProvider services) => new(
        Completed, services.GetRequiredService<ILifecycleState>(), services.GetRequiredService<RequestTracker>(),
        services.GetRequiredService<WebSocketTracker>(), services.GetRequiredService<Adaptive.TrafficMonitor>());
}
