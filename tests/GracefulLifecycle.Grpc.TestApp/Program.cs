// A gRPC server with the lifecycle and gRPC health, run as a real process by the tests: Kestrel speaks HTTP/2 without
// TLS (h2c) on the URLs given (--urls), as a Kubernetes grpc probe expects.
using Microsoft.AspNetCore.Server.Kestrel.Core;

var builder = WebApplication.CreateSlimBuilder(args);
builder.WebHost.ConfigureKestrel(k => k.ConfigureEndpointDefaults(e => e.Protocols = HttpProtocols.Http2));
builder.Services.AddGrpc();
builder.Services.AddGracefulLifecycle().AddGrpcHealthChecks();

var app = builder.Build();
app.MapGrpcHealthChecksService();
app.Run();
