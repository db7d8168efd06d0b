using System.Net;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.Tests.Draining;

/// <summary>Once leaving starts, keep-alive clients are told to reconnect (where a load balancer would send them elsewhere).</summary>
public sealed class ReconnectTests
{
    [Fact]
    public async Task Http2_AfterLeavingStarts_TheConnectionGetsGoAway_AndTheClientMovesToANewOne()
    {
        await using var app = new SampleAppFactory().WithServices(s => s.AddTransient<IStartupFilter, ConnectionIdStartupFilter>());
        app.UseKestrel(kestrel => kestrel.ConfigureEndpointDefaults(endpoint => endpoint.Protocols = HttpProtocols.Http2));
        app.StartServer();
        using var client = new HttpClient
        {
            BaseAddress = app.CreateClient().BaseAddress,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        await app.WaitUntilReadyAsync();

        var first = await ConnectionOfAsync(client);
        Assert.Equal(first, await ConnectionOfAsync(client));

        _ = app.Lifecycle.LeaveAsync();
        Assert.Equal(first, await ConnectionOfAsync(client));

        // The answer above came with GOAWAY: the client takes a new connection for what follows.
        var moved = false;
        for (var attempt = 0; attempt < 20 && !moved; attempt++)
        {
            moved = await ConnectionOfAsync(client) != first;
        }

        Assert.True(moved, "every request after GOAWAY stayed on the old connection");
    }

    [Fact]
    public async Task Http11_AfterLeavingStarts_ResponsesCarryConnectionClose()
    {
        await using var app = new SampleAppFactory();
        using var client = app.CreateClient();
        await app.WaitUntilReadyAsync();
        using (var before = await client.GetAsync("/"))
        {
            Assert.NotEqual(true, before.Headers.ConnectionClose);
        }

        _ = app.Lifecycle.LeaveAsync();

        using var during = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, during.StatusCode);
        Assert.True(during.Headers.ConnectionClose);
    }

    private static async Task<string> ConnectionOfAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version20, response.Version);
        return response.Headers.GetValues("X-Connection-Id").Single();
    }

    private sealed class ConnectionIdStartupFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, inner) =>
            {
                context.Response.Headers["X-Connection-Id"] = context.Connection.Id;
                return inner(context);
            });
            next(app);
        };
    }
}
