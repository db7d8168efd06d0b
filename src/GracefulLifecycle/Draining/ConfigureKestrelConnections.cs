using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Draining;

/// <summary>
/// Puts <see cref="ConnectionTracker"/> first on every Kestrel endpoint: those from URLs (<c>ASPNETCORE_URLS</c>,
/// <c>--urls</c>), from the <c>Kestrel:Endpoints</c> configuration and from <c>Listen</c> calls made after it runs.
/// Kestrel applies the endpoint defaults when it creates an endpoint, before the endpoint's own configuration
/// (<c>UseHttps</c>), so the tracker sees the transport's connection, TLS handshake included.
/// <c>AddGracefulLifecycle</c> registers it ahead of the application's own Kestrel configuration, so its
/// <c>Listen</c> calls get it too. Kestrel keeps one endpoint-defaults action: an application that calls
/// <c>ConfigureEndpointDefaults</c> itself replaces this one.
/// </summary>
internal sealed class ConfigureKestrelConnections(ConnectionTracker connections) : IConfigureOptions<KestrelServerOptions>
{
    public void Configure(KestrelServerOptions options) =>
        options.ConfigureEndpointDefaults(listen => listen.Use(connections.Track));
}
