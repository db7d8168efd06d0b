// A typical service without graceful shutdown: a readiness endpoint that is 200 while the process runs,
// and the host's default SIGTERM handling (stop listening at once, then drain).
var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();

app.MapGet("/ifready", () => Results.Ok(new { status = "Healthy" }));
app.MapGet("/health", () => Results.Ok(new { status = "Healthy" }));
app.MapGet("/", () => Results.Text("Hello from the baseline\n"));
app.MapGet("/slow", async (int ms, CancellationToken cancellationToken) =>
{
    await Task.Delay(ms, cancellationToken);
    return Results.Text($"Waited {ms} ms\n");
});

app.Run();
