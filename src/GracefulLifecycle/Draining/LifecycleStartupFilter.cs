using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.Draining;

/// <summary>Puts <see cref="LifecycleMiddleware"/> in front of the application's own pipeline.</summary>
internal sealed class LifecycleStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        var lifecycle = app.ApplicationServices.GetRequiredService<ILifecycleState>();
        var requests = app.ApplicationServices.GetRequiredService<RequestTracker>();
        var webSockets = app.ApplicationServices.GetRequiredService<WebSocketTracker>();
        var traffic = app.ApplicationServices.GetRequiredService<Adaptive.TrafficMonitor>();
        app.Use(inner => new LifecycleMiddleware(inner, lifecycle, requests, webSockets, traffic).InvokeAsync);
        next(app);
    };
}
