using GracefulLifecycle;
using GracefulLifecycle.Sample;

var builder = WebApplication.CreateBuilder(args);

builder.Services.Configure<SampleOptions>(builder.Configuration.GetSection(SampleOptions.SectionName));
var lifecycle = builder.Services.AddGracefulLifecycle()
    .AddPreload<SimulatedCacheWarmup>();

// Long-lived work: a job queue with its worker, and SignalR.
builder.Services.AddSingleton<JobQueue>();
builder.Services.AddHostedService<JobWorker>();
builder.Services.AddSignalR();

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

// In Kubernetes, GracefulLifecycle__Kubernetes__OnMismatch=Fail (or any key of the section) reads the pod at startup and
// fails the start when its spec contradicts these options, and reads it again at shutdown to obey it.
if (builder.Configuration.GetSection("GracefulLifecycle:Kubernetes").Exists())
{
    lifecycle.AddKubernetes();
}

// An opt-in call to another service by name, resolved through the registry: Sample__Downstream=http://catalog.
var callsDownstream = Downstream.TryAdd(builder.Services, builder.Configuration);

var app = builder.Build();

app.UseWebSockets();
app.MapGracefulLifecycle();

app.MapGet("/", (IGracefulLifecycle lifecycle) => Results.Text($"Hello from {Environment.MachineName} ({lifecycle.Phase})\n"));

app.MapGet("/slow", async (int ms, ILogger<Program> logger, CancellationToken cancellationToken) =>
{
    SampleLog.SlowRequestStarted(logger, ms);
    await Task.Delay(ms, cancellationToken);
    SampleLog.SlowRequestCompleted(logger, ms);
    return Results.Text($"Waited {ms} ms\n");
});

app.MapPost("/jobs", (int ms, JobQueue jobs, ILogger<Program> logger) =>
{
    if (ms < 0)
    {
        return Results.BadRequest("ms must not be negative\n");
    }

    if (jobs.TryAccept(ms) is not { } job)
    {
        // Leaving: this instance takes no new job; the client retries and lands on another instance.
        return Results.Text("Not accepting jobs: this instance is shutting down\n", statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    SampleLog.JobAccepted(logger, job.Id, ms);
    return Results.Accepted($"/jobs/{job.Id}", new { id = job.Id });
});

if (callsDownstream)
{
    app.MapGet("/downstream", Downstream.CallAsync);
}

app.Map("/ws", LongLivedEndpoints.WebSocketEchoAsync);
app.MapGet("/sse", LongLivedEndpoints.ServerSentEventsAsync);
app.MapHub<EchoHub>("/hub");

app.Run();

/// <summary>The sample's entry point, visible to the integration tests.</summary>
public partial class Program;
