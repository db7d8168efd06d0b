using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Benchmarks;

/// <summary>
/// <c>GET /</c> through the whole ASP.NET Core pipeline in process (TestServer: startup filters, routing, the endpoint),
/// the same app with and without the library, and with the adaptive delay on. The TestServer's own cost is on every
/// side; the differences are the library's, in time and in bytes allocated per request.
/// </summary>
[ShortRunJob]
[MemoryDiagnoser]
public class PipelineBenchmarks
{
    private WebApplication? _without;
    private WebApplication? _with;
    private WebApplication? _adaptive;
    private TestServer? _withoutServer;
    private TestServer? _withServer;
    private TestServer? _adaptiveServer;

    [GlobalSetup]
    public void Setup()
    {
        (_without, _withoutServer) = Start(useLibrary: false, adaptive: false);
        (_with, _withServer) = Start(useLibrary: true, adaptive: false);
        (_adaptive, _adaptiveServer) = Start(useLibrary: true, adaptive: true);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var app in new[] { _without, _with, _adaptive })
        {
            if (app is not null)
            {
                app.StopAsync().GetAwaiter().GetResult();
                ((IDisposable)app).Dispose();
            }
        }
    }

    [Benchmark(Baseline = true, Description = "GET /, without the library")]
    public Task<HttpContext> Without() => Send(_withoutServer!);

    [Benchmark(Description = "GET /, with the library")]
    public Task<HttpContext> With() => Send(_withServer!);

    [Benchmark(Description = "GET /, with the library, AdaptiveDelay on")]
    public Task<HttpContext> WithAdaptive() => Send(_adaptiveServer!);

    private static Task<HttpContext> Send(TestServer server) => server.SendAsync(static context =>
    {
        context.Request.Method = HttpMethods.Get;
        context.Request.Path = "/";
        context.Connection.RemoteIpAddress = System.Net.IPAddress.Loopback;
    });

    private static (WebApplication, TestServer) Start(bool useLibrary, bool adaptive)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        if (useLibrary)
        {
            builder.Services.AddGracefulLifecycle(o => o.AdaptiveDelay.Enabled = adaptive);
        }

        var app = builder.Build();
        if (useLibrary)
        {
            app.MapGracefulLifecycle();
        }

        app.MapGet("/", () => Results.Text("Hello from the baseline\n"));
        app.StartAsync().GetAwaiter().GetResult();
        return (app, app.GetTestServer());
    }
}
