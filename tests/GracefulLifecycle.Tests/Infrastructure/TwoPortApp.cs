using GracefulLifecycle.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Tests.Infrastructure;

/// <summary>
/// An app on real Kestrel listening on two ports the OS picks, an application port and a management port, on fake
/// time; the caller maps the endpoints. Stopping moves fake time so the delay and drain pass.
/// </summary>
internal sealed class TwoPortApp : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TwoPortApp(WebApplication app, FakeTimeProvider time, int managementPort)
    {
        _app = app;
        Time = time;
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Select(a => new Uri(a)).ToArray();
        AppClient = new HttpClient { BaseAddress = addresses.Single(a => a.Port != managementPort) };
        ManagementClient = new HttpClient { BaseAddress = addresses.Single(a => a.Port == managementPort) };
        ManagementPort = managementPort;
        Lifecycle = app.Services.GetRequiredService<IGracefulLifecycle>();
    }

    public FakeTimeProvider Time { get; }

    public HttpClient AppClient { get; }

    public HttpClient ManagementClient { get; }

    public int ManagementPort { get; }

    public IGracefulLifecycle Lifecycle { get; }

    /// <summary>Starts the app; <paramref name="map"/> receives the app and the management port.</summary>
    public static async Task<TwoPortApp> StartAsync(
        Action<WebApplicationBuilder> configure, Action<WebApplication, int> map, Action<GracefulLifecycleOptions>? options = null)
    {
        // The management port must be known when mapping, before the server starts: the OS picks a free one, which
        // another test may take before the server binds it. Then try again with another.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await TryStartAsync(configure, map, options);
            }
            catch (IOException ex) when (attempt < 5 && ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
            {
            }
        }
    }

    private static async Task<TwoPortApp> TryStartAsync(
        Action<WebApplicationBuilder> configure, Action<WebApplication, int> map, Action<GracefulLifecycleOptions>? options)
    {
        var time = new FakeTimeProvider();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<TimeProvider>(time);
        builder.Services.AddGracefulLifecycle(o =>
        {
            o.ShutdownDelay = TimeSpan.FromSeconds(5);
            o.DrainTimeout = TimeSpan.FromSeconds(10);
            options?.Invoke(o);
        });
        configure(builder);

        var management = FreePort();
        builder.WebHost.UseUrls("http://127.0.0.1:0", $"http://127.0.0.1:{management}");
        var app = builder.Build();
        try
        {
            map(app, management);
            await app.StartAsync();
            return new TwoPortApp(app, time, management);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        AppClient.Dispose();
        ManagementClient.Dispose();
        var stop = _app.StopAsync();
        while (!stop.IsCompleted)
        {
            Time.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(stop, Task.Delay(5));
        }

        await stop;
        await _app.DisposeAsync();
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
