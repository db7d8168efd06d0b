using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

using GracefulLifecycle.Testing;

namespace GracefulLifecycle.Tests.Infrastructure;

/// <summary>
/// The sample service in memory, on fake time. A request may claim a client address with the
/// <see cref="RemoteAddressHeader"/> header, since the test server has no network connection: the header sets the
/// transport endpoints (<see cref="IConnectionEndPointFeature"/>) the way Kestrel does.
/// </summary>
public sealed class SampleAppFactory : WebApplicationFactory<Program>
{
    public const string RemoteAddressHeader = "X-Test-Remote-Address";

    private readonly Dictionary<string, string?> _settings = new()
    {
        ["Sample:PreloadDuration"] = "00:00:00",
        ["GracefulLifecycle:ShutdownDelay"] = "00:00:05",
        ["GracefulLifecycle:DrainTimeout"] = "00:00:10",
        ["Logging:LogLevel:Default"] = "Warning",
    };

    private readonly List<Action<IServiceCollection>> _services = [];

    public FakeTimeProvider Time { get; } = new();

    public IGracefulLifecycle Lifecycle => Services.GetRequiredService<IGracefulLifecycle>();

    public SampleAppFactory With(string key, string? value)
    {
        _settings[key] = value;
        return this;
    }

    public SampleAppFactory WithServices(Action<IServiceCollection> configure)
    {
        _services.Add(configure);
        return this;
    }

    /// <summary>Moves fake time forward in steps until the instance is ready.</summary>
    public async Task WaitUntilReadyAsync()
    {
        _ = Services;
        var deadline = Stopwatch.StartNew();
        while (Lifecycle.Phase < LifecyclePhase.Ready)
        {
            Assert.True(deadline.Elapsed < Eventually.DefaultTimeout, $"not ready in time (phase {Lifecycle.Phase})");
            Time.Advance(TimeSpan.FromMilliseconds(500));
            await Task.Delay(5);
        }

        Assert.Equal(LifecyclePhase.Ready, Lifecycle.Phase);
    }

    /// <summary>
    /// Waits until leaving has started and its shutdown delay is on the clock. The delay's timer only exists once the
    /// registries have been left, a moment after the phase changes: time moved before that would not serve it.
    /// </summary>
    public Task WaitUntilServingTheDelayAsync(TimeSpan? delay = null)
    {
        var due = delay ?? TimeSpan.FromSeconds(5);
        return Eventually.TrueAsync(
            () => Lifecycle.Phase == LifecyclePhase.Leaving && Time.HasTimerDueIn(due), "leaving, with the shutdown delay on the clock");
    }

    public override async ValueTask DisposeAsync()
    {
        // Stopping serves the shutdown delay on fake time: keep the clock moving until the host has stopped.
        var dispose = base.DisposeAsync().AsTask();
        var deadline = Stopwatch.StartNew();
        while (!dispose.IsCompleted && deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            Time.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(dispose, Task.Delay(10));
        }

        await dispose;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.ConfigureAppConfiguration(config => config.AddInMemoryCollection(_settings));
        builder.ConfigureServices(services =>
        {
            services.AddSingleton<TimeProvider>(Time);
            services.AddTransient<IStartupFilter, RemoteAddressStartupFilter>();
            foreach (var configure in _services)
            {
                configure(services);
            }
        });
    }

    private sealed class EndPoints(EndPoint remote, EndPoint local) : IConnectionEndPointFeature
    {
        public EndPoint? LocalEndPoint { get; set; } = local;

        public EndPoint? RemoteEndPoint { get; set; } = remote;
    }

    private sealed class RemoteAddressStartupFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, inner) =>
            {
                if (context.Request.Headers.TryGetValue(RemoteAddressHeader, out var value))
                {
                    // What Kestrel's transport reports for a connection: the library reads this, never HttpContext.Connection.
                    var remote = IPAddress.Parse(value.ToString());
                    var local = IPAddress.IsLoopback(remote) ? remote : IPAddress.Parse("192.0.2.10");
                    context.Features.Set<IConnectionEndPointFeature>(new EndPoints(new IPEndPoint(remote, 40000), new IPEndPoint(local, 80)));
                    context.Connection.RemoteIpAddress = remote;
                }

                return inner(context);
            });
            next(app);
        };
    }
}
