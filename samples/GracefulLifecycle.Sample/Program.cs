using GracefulLifecycle;
using GracefulLifecycle.Sample;

var builder = WebApplication.CreateBuilder(args);

builder.Services.Configure<SampleOptions>(builder.Configuration.GetSection(SampleOptions.SectionName));
var lifecycle = builder.Services.AddGracefulLifecycle()
    .AddPreload<SimulatedCacheWarmup>();

// Registries are opt-in by configuration, for example GracefulLifecycle__Etcd__Endpoints=http://127.0.0.1:2379,
// GracefulLifecycle__Consul__Address=http://127.0.0.1:8500 or GracefulLifecycle__Eureka__ServiceUrl=http://eureka:8761/eureka/.
// Several may be used at once.
if (builder.Configuration.GetSection("GracefulLifecycle:Eureka").Exists())
{
    lifecycle.AddEureka();
}

if (builder.Configuration.GetSection("GracefulLifecycle:Consul").Exists())
{
    lifecycle.AddConsul();
}

if (builder.Configuration.GetSection("GracefulLifecycle:Etcd").Exists())
{
    lifecycle.AddEtcd();
}

var app = builder.Build();

app.MapGracefulLifecycle();

app.MapGet("/", (IGracefulLifecycle lifecycle) => Results.Text($"Hello from {Environment.MachineName} ({lifecycle.Phase})\n"));

app.MapGet("/slow", async (int ms, ILogger<Program> logger, CancellationToken cancellationToken) =>
{
    SampleLog.SlowRequestStarted(logger, ms);
    await Task.Delay(ms, cancellationToken);
    SampleLog.SlowRequestCompleted(logger, ms);
    return Results.Text($"Waited {ms} ms\n");
});

app.Run();

/// <summary>The sample's entry point, visible to the integration tests.</summary>
public partial class Program;
