using GracefulLifecycle.Gateway;

// A YARP gateway whose cluster destinations name a service (http://catalog) instead of an address: the service
// discovery resolver turns each into the instances registered under that name, through the endpoint provider of the
// registry whose section is configured, and YARP follows the provider's change token, so an instance that leaves its
// registry leaves the gateway's rotation within tens of milliseconds with a watching provider. YARP's active health
// check on each instance's /ifready is the second path out: an instance that fails readiness while it is still
// registered stops getting requests at the next check.
var builder = WebApplication.CreateBuilder(args);

// The gateway is rolled like any service: its own readiness, liveness and graceful shutdown.
builder.Services.AddGracefulLifecycle();

GatewayRegistries.AddEndpointProvider(builder.Services, builder.Configuration);
builder.Services.AddReverseProxy()
    .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
    .AddServiceDiscoveryDestinationResolver();

var app = builder.Build();

app.MapGracefulLifecycle();
if (app.Configuration.GetValue<bool>("Gateway:ShowDestinations"))
{
    // What the gateway routes to now: a diagnostic, off by default, as it lists internal addresses.
    app.MapGet("/gateway/destinations", GatewayDestinations.Describe);
}

app.MapReverseProxy();

app.Run();
