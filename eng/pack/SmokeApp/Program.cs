// A consumer of the packed packages: restored from the local feed only, no project reference.
var builder = WebApplication.CreateBuilder(args);
builder.Services.AddGracefulLifecycle(o =>
{
    o.ShutdownDelay = TimeSpan.FromSeconds(1);
    o.DrainTimeout = TimeSpan.FromSeconds(3);
});

var app = builder.Build();
app.MapGracefulLifecycle();
app.MapGet("/", () => "smoke");
app.Run();
