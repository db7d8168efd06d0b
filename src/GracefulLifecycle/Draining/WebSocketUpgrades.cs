using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.SignalR;

namespace GracefulLifecycle.Draining;

/// <summary>
/// Puts <see cref="TrackedWebSocketStream"/> under every WebSocket the application accepts, whatever accepts it (the app's
/// own handler, SignalR): the framework's WebSocket is built on the stream the server's upgrade feature returns,
/// so wrapping that feature is enough, and the application's WebSocket options (allowed origins, keep-alive,
/// compression) stay its own.
/// </summary>
internal static class WebSocketUpgrades
{
    /// <summary>Wraps the upgrade of a WebSocket request; returns the wrapper to dispose when the request ends, or null.</summary>
    public static Tracking? Track(HttpContext context, WebSocketTracker tracker)
    {
        var features = context.Features;
        if (HttpProtocol.IsHttp11(context.Request.Protocol) || HttpProtocol.IsHttp10(context.Request.Protocol))
        {
            if (features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade &&
                context.Request.Headers.Upgrade.ToString().Equals("websocket", StringComparison.OrdinalIgnoreCase))
            {
                var tracking = new Tracking(tracker, context);
                features.Set<IHttpUpgradeFeature>(new UpgradeFeature(upgrade, tracking));
                return tracking;
            }

            return null;
        }

        // HTTP/2 and HTTP/3 WebSockets (RFC 8441): an extended CONNECT with the websocket protocol.
        if (features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true } connect &&
            string.Equals(connect.Protocol, "websocket", StringComparison.OrdinalIgnoreCase))
        {
            var tracking = new Tracking(tracker, context);
            features.Set<IHttpExtendedConnectFeature>(new ExtendedConnectFeature(connect, tracking));
            return tracking;
        }

        return null;
    }

    /// <summary>One request's WebSocket, once accepted: tracked until the request ends.</summary>
    internal sealed class Tracking(WebSocketTracker tracker, HttpContext context) : IDisposable
    {
        private TrackedWebSocketStream? _stream;

        public Stream Wrap(Stream stream)
        {
            var wrapped = tracker.Wrap(stream);
            _stream = wrapped;

            // The endpoint is known by the time the upgrade happens: a SignalR hub's gets closed before SignalR's own stop.
            var isHub = context.GetEndpoint()?.Metadata.GetMetadata<HubMetadata>() is not null;
            tracker.Add(wrapped, context, isHub);
            return wrapped;
        }

        public void Dispose()
        {
            if (_stream is { } stream)
            {
                tracker.Remove(stream);
            }
        }
    }

    private sealed class UpgradeFeature(IHttpUpgradeFeature inner, Tracking tracking) : IHttpUpgradeFeature
    {
        public bool IsUpgradableRequest => inner.IsUpgradableRequest;

        public async Task<Stream> UpgradeAsync() => tracking.Wrap(await inner.UpgradeAsync().ConfigureAwait(false));
    }

    private sealed class ExtendedConnectFeature(IHttpExtendedConnectFeature inner, Tracking tracking) : IHttpExtendedConnectFeature
    {
        public bool IsExtendedConnect => inner.IsExtendedConnect;

        public string? Protocol => inner.Protocol;

        public async ValueTask<Stream> AcceptAsync() => tracking.Wrap(await inner.AcceptAsync().ConfigureAwait(false));
    }
}
