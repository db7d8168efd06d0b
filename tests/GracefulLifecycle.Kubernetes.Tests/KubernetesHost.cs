using System.Net;
using System.Net.Sockets;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.TestSupport.Kubernetes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Kubernetes.Tests;

/// <summary>
/// An application with the lifecycle and <c>AddKubernetes()</c> on real Kestrel at <see cref="Port"/>, pointed at a
/// fake API server through configuration, as a pod's would be through its service account.
/// </summary>
internal sealed class KubernetesHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private KubernetesHost(WebApplication app, CapturingLoggerProvider logs)
    {
        _app = app;
        Logs = logs;
    }

    public CapturingLoggerProvider Logs { get; }

    public IServiceProvider Services => _app.Services;

    public IGracefulLifecycle Lifecycle => _app.Services.GetRequiredService<IGracefulLifecycle>();

    public Uri BaseAddress => new(_app.Urls.First());

    /// <summary>A port free now, for a pod spec that must name the port the application will listen on.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Builds and starts the application; <paramref name="logs"/> keeps the lines of a start that throws.</summary>
    public static async Task<KubernetesHost> StartAsync(
        FakeKubernetesApiServer api,
        int port,
        CapturingLoggerProvider logs,
        IDictionary<string, string?>? settings = null,
        TimeProvider? time = null,
        Action<WebApplication>? map = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Configuration.AddInMemoryCollection(api.Configuration);

        // No delay to serve when a test stops the host; a test about the budget sets its own.
        builder.Configuration.AddInMemoryCollection([new("GracefulLifecycle:ShutdownDelay", "00:00:00")]);
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        builder.Logging.ClearProviders().AddProvider(logs).SetMinimumLevel(LogLevel.Debug);
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        builder.Services.AddGracefulLifecycle().AddKubernetes();

        // No KUBERNETES_SERVICE_HOST, POD_NAME or HOSTNAME from the test runner's environment.
        builder.Services.AddSingleton(new KubernetesEnvironment(_ => null, api.ServiceAccountDirectory));
        var app = builder.Build();
        try
        {
            app.MapGracefulLifecycle();
            app.MapGet("/", () => "ok");
            map?.Invoke(app);
            await app.StartAsync();
            return new KubernetesHost(app, logs);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _app.StopAsync(stop.Token);
        }
        finally
        {
            await _app.DisposeAsync();
        }
    }
}
