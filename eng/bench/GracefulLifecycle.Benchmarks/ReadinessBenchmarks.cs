using BenchmarkDotNet.Attributes;
using GracefulLifecycle.Endpoints;
using GracefulLifecycle.Lifecycle;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.Benchmarks;

/// <summary>
/// <see cref="ProbeEndpoints.ReadinessAsync"/> with no readiness check registered, writing its JSON answer to a null
/// stream: 200 when Ready, 503 when Leaving.
/// </summary>
[ShortRunJob]
[MemoryDiagnoser]
public class ReadinessBenchmarks
{
    private ServiceProvider? _ready;
    private ServiceProvider? _leaving;
    private ProbeEndpoints? _readyEndpoints;
    private ProbeEndpoints? _leavingEndpoints;
    private DefaultHttpContext _context = new();

    [GlobalSetup]
    public void Setup()
    {
        _ready = BenchmarkServices.Create(LifecyclePhase.Ready);
        _leaving = BenchmarkServices.Create(LifecyclePhase.Leaving);
        _readyEndpoints = _ready.GetRequiredService<ProbeEndpoints>();
        _leavingEndpoints = _leaving.GetRequiredService<ProbeEndpoints>();
        _context = BenchmarkServices.CreateContext("/ifready");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ready?.Dispose();
        _leaving?.Dispose();
    }

    [Benchmark(Baseline = true, Description = "Readiness, Ready (200)")]
    public Task Ready() => _readyEndpoints!.ReadinessAsync(_context);

    [Benchmark(Description = "Readiness, Leaving (503)")]
    public Task Leaving() => _leavingEndpoints!.ReadinessAsync(_context);
}
