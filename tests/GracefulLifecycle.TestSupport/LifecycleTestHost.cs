using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.TestSupport;

/// <summary>
/// A small app with the graceful lifecycle on real Kestrel, bound to 127.0.0.1 on a port the OS picks,
/// running on fake time. <c>GET /</c> answers "ok". <see cref="LifecycleTestServices"/> is the same wiring with no
/// host, for tests that call a registry adapter directly.
/// </summary>
public sealed class LifecycleTestHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private bool _stopped;

    private LifecycleTestHost(WebApplication app, FakeTimeProvider time, CapturingLoggerProvider logs)
    {
        _app = app;
        Time = time;
        Logs = logs;
        Lifecycle = app.Services.GetRequiredService<IGracefulLifecycle>();
        BaseAddress = new Uri(app.Urls.First());
    }

    public Uri BaseAddress { get; }

    public int Port => BaseAddress.Port;

    public FakeTimeProvider Time { get; }

    public CapturingLoggerProvider Logs { get; }

    public IGracefulLifecycle Lifecycle { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<LifecycleTestHost> StartAsync(
        Action<IGracefulLifecycleBuilder>? configure = null,
        Action<GracefulLifecycleOptions>? options = null,
        IDictionary<string, string?>? settings = null,
        FakeTimeProvider? time = null,
        Action<WebApplication>? map = null,
        Action<IServiceCollection>? services = null,
        bool mapLifecycle = true)
    {
        time ??= new FakeTimeProvider();
        var logs = new CapturingLoggerProvider();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        AddLifecycle(builder.Services, time, logs, configure, options, services);

        var app = builder.Build();
        try
        {
            if (mapLifecycle)
            {
                app.MapGracefulLifecycle();
            }

            app.MapGet("/", () => "ok");
            map?.Invoke(app);
            await app.StartAsync();
            return new LifecycleTestHost(app, time, logs);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The wiring this host and <see cref="LifecycleTestServices"/> share: logs captured at Debug, fake time, the
    /// lifecycle with a 5 s delay and a 10 s drain unless <paramref name="options"/> says otherwise, then what
    /// <paramref name="configure"/> adds to it and <paramref name="services"/> adds around it.
    /// </summary>
    internal static void AddLifecycle(
        IServiceCollection collection,
        FakeTimeProvider time,
        CapturingLoggerProvider logs,
        Action<IGracefulLifecycleBuilder>? configure,
        Action<GracefulLifecycleOptions>? options,
        Action<IServiceCollection>? services)
    {
        collection.AddLogging(b => b.ClearProviders().AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        collection.AddSingleton<TimeProvider>(time);
        var lifecycle = collection.AddGracefulLifecycle(o =>
        {
            o.ShutdownDelay = TimeSpan.FromSeconds(5);
            o.DrainTimeout = TimeSpan.FromSeconds(10);
            options?.Invoke(o);
        });
        configure?.Invoke(lifecycle);
        services?.Invoke(collection);
    }

    /// <summary>Starts stopping the host as SIGTERM would, without moving fake time: the caller moves it.</summary>
    public Task BeginStopAsync()
    {
        _stopped = true;
        return _app.StopAsync();
    }

    /// <summary>Moves fake time forward in steps until <paramref name="condition"/> holds.</summary>
    public Task AdvanceUntilAsync(Func<bool> condition, string what, TimeSpan? step = null) =>
        Time.AdvanceUntilAsync(condition, what, step);

    /// <summary>
    /// Stops the host as SIGTERM would, moving fake time so the delay and the drain can pass: 100 ms of fake time
    /// per 5 ms of real time, so a real loopback call made on the way still fits in a budget of a second or two.
    /// </summary>
    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        var stop = _app.StopAsync();
        var deadline = Stopwatch.StartNew();
        while (!stop.IsCompleted && deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            Time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.WhenAny(stop, Task.Delay(5));
        }

        await stop;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _app.DisposeAsync();
    }
}
