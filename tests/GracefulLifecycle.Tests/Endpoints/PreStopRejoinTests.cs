using System.Collections.Concurrent;
using System.Net;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.Tests.Infrastructure;
using GracefulLifecycle.Tests.Registration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace GracefulLifecycle.Tests.Endpoints;

/// <summary>
/// PreStop:WhenNoStopFollows = Rejoin: a leave that no stop followed within the grace period less the drain and the
/// margin (30 - 10 - 2 = 18 s here) ends with the instance back in service, not stopped.
/// </summary>
public sealed class PreStopRejoinTests
{
    private static readonly TimeSpan FollowUpWait = TimeSpan.FromSeconds(18);

    private static Action<HttpRequestMessage> FromLoopback => r => r.Headers.Add(SampleAppFactory.RemoteAddressHeader, "127.0.0.1");

    [Fact]
    public async Task PreStopWithNoStopFollowing_Rejoin_RegistersAgainAndIsReady_WithANewLeavingTokenAndItsWorkersRunningAgain()
    {
        // No propagation delay of its own: the library's 5 s delay is the one served.
        var registry = new RecordingRegistry { PropagationDelay = TimeSpan.Zero };
        var worker = new CountingWorker();
        await using var app = RejoiningApp(registry, worker);
        using var client = app.CreateClient();
        await app.WaitUntilReadyAsync();
        await Eventually.TrueAsync(() => worker.Runs.Count == 1, "the worker to start");
        var host = app.Services.GetRequiredService<IHostApplicationLifetime>();
        var firstLeaving = app.Lifecycle.Leaving;

        await LeaveThroughPreStopAsync(app, client);
        await Eventually.TrueAsync(() => worker.Returned == 1, "the worker to stop taking work");
        Assert.Equal(["register", "deregister"], registry.Calls.Where(c => c is "register" or "deregister"));

        // Just before the orchestrator's SIGTERM was due, nothing has changed.
        app.Time.Advance(FollowUpWait - TimeSpan.FromSeconds(5.1));
        Assert.Equal(LifecyclePhase.Leaving, app.Lifecycle.Phase);

        app.Time.Advance(TimeSpan.FromSeconds(0.2));
        await Eventually.TrueAsync(() => app.Lifecycle.Phase != LifecyclePhase.Leaving, "the instance to rejoin");
        Assert.Equal(LifecyclePhase.Registering, app.Lifecycle.Phase);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await ProbeResponse.GetAsync(client, "/ifready")).Code);
        await app.WaitUntilReadyAsync();

        Assert.Equal(HttpStatusCode.OK, (await ProbeResponse.GetAsync(client, "/ifready")).Code);
        Assert.False(host.ApplicationStopping.IsCancellationRequested, "the host stopped instead of rejoining");
        Assert.True(firstLeaving.IsCancellationRequested);
        Assert.False(app.Lifecycle.Leaving.IsCancellationRequested, "the new Leaving token is already cancelled");
        Assert.Equal(["register", "deregister", "register"], registry.Calls.Where(c => c is "register" or "deregister"));
        await Eventually.TrueAsync(() => worker.Runs.Count == 2, "the worker to run again");
        Assert.False(worker.Runs.Last().IsCancellationRequested, "the worker runs on the new token");

        // The next leave works like the first: the new token fires, the worker stops, the registry is left again.
        await LeaveThroughPreStopAsync(app, client);
        Assert.True(worker.Runs.Last().IsCancellationRequested);
        await Eventually.TrueAsync(() => worker.Returned == 2, "the worker to stop again");
        Assert.Equal(2, registry.Count("deregister"));
    }

    [Fact]
    public async Task PreStopWithNoStopFollowing_Rejoin_RearmsTheWait_SoASecondUnfollowedLeaveRejoinsToo()
    {
        await using var app = RejoiningApp(registry: null, worker: null);
        using var client = app.CreateClient();
        await app.WaitUntilReadyAsync();

        for (var round = 1; round <= 2; round++)
        {
            await LeaveThroughPreStopAsync(app, client);
            app.Time.Advance(FollowUpWait);

            // Without registries there is nothing to register again: straight back to ready.
            await Eventually.TrueAsync(() => app.Lifecycle.Phase == LifecyclePhase.Ready, $"rejoin {round}");
        }

        Assert.False(app.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested);
    }

    [Fact]
    public async Task PreStopBeforeReady_Rejoin_IsRefused_AndTheInstanceStopsInstead()
    {
        // A preload that never ends within the test: the preStop call comes before the instance was ever ready.
        await using var app = RejoiningApp(registry: null, worker: null).With("Sample:PreloadDuration", "01:00:00");
        using var client = app.CreateClient();
        var host = app.Services.GetRequiredService<IHostApplicationLifetime>();
        var lifecycle = app.Lifecycle;
        await Eventually.TrueAsync(() => lifecycle.Phase == LifecyclePhase.Preloading, "preloading");

        var call = ProbeResponse.GetAsync(client, "/prestop", FromLoopback);
        await Eventually.TrueAsync(() => lifecycle.Phase == LifecyclePhase.Leaving, "leaving");
        await Eventually.ResultAsync(call, "the preStop answer");
        app.Time.Advance(FollowUpWait);

        await Eventually.TrueAsync(() => host.ApplicationStopping.IsCancellationRequested, "the host stopping instead");

        // Read from the instance taken before: once stopped, the host's services are disposed.
        Assert.NotEqual(LifecyclePhase.Ready, lifecycle.Phase);
    }

    [Fact]
    public async Task PreStopFollowedByAStop_Rejoin_NeverRejoins()
    {
        var worker = new CountingWorker();
        await using var app = RejoiningApp(registry: null, worker);
        using var client = app.CreateClient();
        await app.WaitUntilReadyAsync();
        var host = app.Services.GetRequiredService<IHostApplicationLifetime>();
        var lifecycle = app.Lifecycle;

        await LeaveThroughPreStopAsync(app, client);
        host.StopApplication();
        app.Time.Advance(FollowUpWait + TimeSpan.FromSeconds(1));

        Assert.NotEqual(LifecyclePhase.Ready, lifecycle.Phase);
        Assert.True(lifecycle.Leaving.IsCancellationRequested, "a stopping instance handed out a new Leaving token");
        Assert.Single(worker.Runs);
    }

    private static SampleAppFactory RejoiningApp(RecordingRegistry? registry, CountingWorker? worker) =>
        new SampleAppFactory()
            .With("GracefulLifecycle:PreStop:WhenNoStopFollows", "Rejoin")
            .WithServices(services =>
            {
                if (registry is not null)
                {
                    services.AddSingleton<IServiceRegistry>(registry);
                }

                if (worker is not null)
                {
                    services.AddHostedService(sp => worker.Attach(sp.GetRequiredService<IGracefulLifecycle>()));
                }
            });

    /// <summary>Calls /prestop and serves the 5 s delay on fake time until it answers.</summary>
    private static async Task LeaveThroughPreStopAsync(SampleAppFactory app, HttpClient client)
    {
        var call = ProbeResponse.GetAsync(client, "/prestop", FromLoopback);
        await app.WaitUntilServingTheDelayAsync();
        app.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(HttpStatusCode.OK, (await Eventually.ResultAsync(call, "the preStop answer")).Code);
    }

    /// <summary>Records the token of each run and returns as soon as it fires, as a worker that stops taking work does.</summary>
    private sealed class CountingWorker
    {
        private int _returned;

        public ConcurrentQueue<CancellationToken> Runs { get; } = new();

        public int Returned => Volatile.Read(ref _returned);

        public GracefulBackgroundService Attach(IGracefulLifecycle lifecycle) => new Service(lifecycle, this);

        private sealed class Service(IGracefulLifecycle lifecycle, CountingWorker owner) : GracefulBackgroundService(lifecycle)
        {
            protected override async Task ExecuteAsync(CancellationToken leaving)
            {
                owner.Runs.Enqueue(leaving);
                try
                {
                    await Task.Delay(Timeout.Infinite, leaving);
                }
                finally
                {
                    Interlocked.Increment(ref owner._returned);
                }
            }
        }
    }
}
