using GracefulLifecycle.TestSupport;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Grpc.Tests;

/// <summary>
/// A gRPC server with the lifecycle and gRPC health on real Kestrel (HTTP/2 without TLS, 127.0.0.1, a port the OS
/// picks), on fake time, with a real Grpc.Net.Client channel to it.
/// </summary>
internal sealed class GrpcHealthHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GrpcHealthHost(WebApplication app, FakeTimeProvider time)
    {
        _app = app;
        Time = time;
        Lifecycle = app.Services.GetRequiredService<IGracefulLifecycle>();
        Channel = GrpcChannel.ForAddress(app.Urls.First());
        BaseAddress = new Uri(app.Urls.First());
        Client = new global::Grpc.Health.V1.Health.HealthClient(Channel);
    }

    public FakeTimeProvider Time { get; }

    public IGracefulLifecycle Lifecycle { get; }

    public GrpcChannel Channel { get; }

    public Uri BaseAddress { get; }

    public global::Grpc.Health.V1.Health.HealthClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<GrpcHealthHost> StartAsync(
        Action<IGracefulLifecycleBuilder>? lifecycle = null, Action<IServiceCollection>? services = null, Action<WebApplication>? map = null)
    {
        var time = new FakeTimeProvider();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.ConfigureEndpointDefaults(e => e.Protocols = HttpProtocols.Http2));
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<TimeProvider>(time);
        builder.Services.AddGrpc();
        var gracefulLifecycle = builder.Services.AddGracefulLifecycle(o =>
        {
            o.ShutdownDelay = TimeSpan.FromSeconds(5);
            o.DrainTimeout = TimeSpan.FromSeconds(10);
        });
        if (lifecycle is null)
        {
            gracefulLifecycle.AddGrpcHealthChecks();
        }
        else
        {
            lifecycle(gracefulLifecycle);
        }

        services?.Invoke(builder.Services);
        var app = builder.Build();
        try
        {
            app.MapGrpcHealthChecksService();
            map?.Invoke(app);
            await app.StartAsync();
            return new GrpcHealthHost(app, time);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops the server as a SIGTERM would (leaving, the delay, the drain), moving the fake clock; the channel stays open.</summary>
    public async Task StopAsync()
    {
        var stop = _app.StopAsync();
        while (!stop.IsCompleted)
        {
            Time.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(stop, Task.Delay(5));
        }

        await stop;
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await StopAsync();
        await _app.DisposeAsync();
    }
}
