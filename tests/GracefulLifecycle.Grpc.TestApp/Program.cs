// A gRPC server with the lifecycle and gRPC health, run as a real process by the tests: Kestrel speaks HTTP/2 without
// TLS (h2c) on the URLs given (--urls), as a Kubernetes grpc probe expects.
//
// With TestApp__Aspire=true it is also the application of docs/health-checks.md's Aspire recipe: the health checks and
// endpoints of the Aspire ServiceDefaults template reproduced as the template writes them (the Aspire packages are not
// needed for that), the lifecycle beside them, and a preload task of TestApp__PreloadMs.
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;

var builder = WebApplication.CreateSlimBuilder(args);
var aspire = builder.Configuration.GetValue<bool>("TestApp:Aspire");
builder.WebHost.ConfigureKestrel(k => k.ConfigureEndpointDefaults(e => e.Protocols = HttpProtocols.Http2));
builder.Services.AddGrpc();
if (aspire)
{
    // The template's AddDefaultHealthChecks (dotnet/aspire src/Aspire.ProjectTemplates/templates/aspire-servicedefaults/Extensions.cs).
    builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), ["live"]);

    // The recipe: the lifecycle's liveness on a path the template leaves free in every environment.
    var preload = TimeSpan.FromMilliseconds(builder.Configuration.GetValue("TestApp:PreloadMs", 0));
    builder.Services.AddGracefulLifecycle(o => o.LivenessPath = "/livez")
        .AddPreload("warm-up", (_, token) => Task.Delay(preload, TimeProvider.System, token))
        .AddGrpcHealthChecks();
}
else
{
    builder.Services.AddGracefulLifecycle().AddGrpcHealthChecks();
}

var app = builder.Build();
app.MapGrpcHealthChecksService();
if (aspire)
{
    // The template's MapDefaultEndpoints, as it is: the endpoints in Development only.
    if (app.Environment.IsDevelopment())
    {
        app.MapHealthChecks("/health");
        app.MapHealthChecks("/alive", new HealthCheckOptions { Predicate = r => r.Tags.Contains("live") });
    }

    app.MapGracefulLifecycle();
}

app.Run();
