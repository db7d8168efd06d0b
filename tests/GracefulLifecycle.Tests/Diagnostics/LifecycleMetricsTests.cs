using System.Diagnostics.Metrics;
using System.Runtime.InteropServices;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.Tests.Infrastructure;
using GracefulLifecycle.Tests.Registration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace GracefulLifecycle.Tests.Diagnostics;

public sealed class LifecycleMetricsTests
{
    private const string Meter = "GracefulLifecycle";

    [Fact]
    public async Task Phase_IsOneForTheCurrentPhaseAndZeroForTheOthers_WithSnakeCaseValues()
    {
        using var h = LifecycleTestServices.Build();
        using var phase = Collector<int>(h, "gracefullifecycle.phase");
        await h.Coordinator.RunStartupAsync(CancellationToken.None);

        phase.RecordObservableInstruments();
        Assert.Equal(
            new Dictionary<string, int> { ["starting"] = 0, ["preloading"] = 0, ["registering"] = 0, ["ready"] = 1, ["leaving"] = 0, ["draining"] = 0, ["stopped"] = 0 },
            Latest(phase));

        _ = h.Coordinator.LeaveAsync();
        phase.Clear();
        phase.RecordObservableInstruments();
        Assert.Equal(1, Latest(phase)["leaving"]);
        Assert.Equal(0, Latest(phase)["ready"]);
        Assert.Equal("{phase}", phase.Instrument!.Unit);
    }

    [Fact]
    public async Task PreloadDuration_IsRecordedInSeconds_WithItsOutcome()
    {
        var preload = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var h = LifecycleTestServices.Build(configure: b => b.AddPreload("cache", (_, _) => preload.Task));
        using var duration = Collector<double>(h, "gracefullifecycle.preload.duration");

        var startup = h.Coordinator.RunStartupAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => h.Time.PendingTimers == 1, "preload running");
        h.Time.Advance(TimeSpan.FromSeconds(3));
        preload.SetResult();
        await Eventually.DoneAsync(startup, "startup");

        var measurement = Assert.Single(duration.GetMeasurementSnapshot());
        Assert.Equal(3.0, measurement.Value);
        Assert.Equal("succeeded", measurement.Tags["gracefullifecycle.outcome"]);
        Assert.Equal("s", duration.Instrument!.Unit);
    }

    [Fact]
    public async Task ShutdownDelay_Served_IsRecordedAsElapsed_AndCutShort_AsSkippedWithTheTimeActuallyServed()
    {
        using var served = LifecycleTestServices.Build();
        using var servedDelay = Collector<double>(served, "gracefullifecycle.shutdown_delay.duration");
        await served.Coordinator.RunStartupAsync(CancellationToken.None);
        var leave = served.Coordinator.LeaveAsync();
        await Eventually.TrueAsync(() => served.Time.PendingTimers == 1, "the delay timer");
        served.Time.Advance(TimeSpan.FromSeconds(5));
        await Eventually.DoneAsync(leave, "the delay");

        using var skipped = LifecycleTestServices.Build();
        using var skippedDelay = Collector<double>(skipped, "gracefullifecycle.shutdown_delay.duration");
        await skipped.Coordinator.RunStartupAsync(CancellationToken.None);
        skipped.Coordinator.OnSignal(PosixSignal.SIGTERM);
        await Eventually.TrueAsync(() => skipped.Time.PendingTimers == 2, "the delay timer and the bound on leaving");
        skipped.Time.Advance(TimeSpan.FromSeconds(1.5));
        skipped.Coordinator.OnSignal(PosixSignal.SIGINT);
        await Eventually.TrueAsync(() => skippedDelay.GetMeasurementSnapshot().Count == 1, "the skipped delay recorded");

        Assert.Equal((5.0, "elapsed"), Only(servedDelay));
        Assert.Equal((1.5, "skipped"), Only(skippedDelay));
    }

    [Fact]
    public async Task DrainDuration_IsRecordedWhenTheHostHasStopped_CompletedOrTimedOut()
    {
        using var completed = LifecycleTestServices.Build();
        using var completedDrain = Collector<double>(completed, "gracefullifecycle.drain.duration");
        await DrainAsync(completed, TimeSpan.FromSeconds(2));

        using var timedOut = LifecycleTestServices.Build();
        using var timedOutDrain = Collector<double>(timedOut, "gracefullifecycle.drain.duration");
        await DrainAsync(timedOut, TimeSpan.FromSeconds(10));

        Assert.Equal((2.0, "completed"), Only(completedDrain));
        Assert.Equal((10.0, "timed_out"), Only(timedOutDrain));
    }

    [Fact]
    public async Task RegistryOperations_AreCountedByRegistryOperationAndOutcome_AndTheRegistrationPhaseIsTimed()
    {
        var registry = new RecordingRegistry("Recording");
        registry.FailNextRegistrations(2);
        using var h = LifecycleTestServices.Build(
            options: o => o.Registration.RetryInitialDelay = TimeSpan.FromSeconds(1),
            configure: b => b.Services.AddSingleton<IServiceRegistry>(registry));
        using var operations = Collector<long>(h, "gracefullifecycle.registry.operations");
        using var registration = Collector<double>(h, "gracefullifecycle.registration.duration");

        // Each wait is moved exactly once it is armed: stepping the clock blindly would run it ahead of a continuation
        // that a busy machine has not scheduled yet, and the phase would measure the lag as well.
        var startup = h.Coordinator.RunStartupAsync(CancellationToken.None);
        foreach (var (wait, what) in new[] { (1, "the first retry"), (2, "the second retry"), (3, "the visibility delay") })
        {
            await Eventually.TrueAsync(() => h.Time.HasTimerDueIn(TimeSpan.FromSeconds(wait)), $"{what} ({wait} s) to be armed");
            h.Time.Advance(TimeSpan.FromSeconds(wait));
        }

        await Eventually.DoneAsync(startup, "registered after two failures and visible");
        var leave = h.Coordinator.LeaveAsync();
        await h.Time.AdvanceUntilAsync(() => leave.IsCompleted, "deregistered and the delay served");

        var counts = operations.GetMeasurementSnapshot()
            .GroupBy(m => $"{m.Tags["gracefullifecycle.registry.name"]}/{m.Tags["gracefullifecycle.registry.operation"]}/{m.Tags["gracefullifecycle.outcome"]}")
            .ToDictionary(g => g.Key, g => g.Sum(m => m.Value));
        Assert.Equal(2, counts["Recording/register/failure"]);
        Assert.Equal(1, counts["Recording/register/success"]);
        Assert.Equal(1, counts["Recording/deregister/success"]);

        // Two retries (1 s, then 2 s) and the 3 s visibility delay.
        var (seconds, outcome) = Only(registration);
        Assert.Equal("succeeded", outcome);
        Assert.InRange(seconds, 6.0, 6.5);
    }

    [Fact]
    public void EveryInstrument_IsOnTheGracefulLifecycleMeter_WithALowercaseDottedNameAUnitAndADescription()
    {
        using var h = LifecycleTestServices.Build();
        // Tests running alongside publish instruments of the same meter name while this one reads them: collect under a
        // lock and check a copy.
        var published = new List<Instrument>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == Meter)
                {
                    lock (published)
                    {
                        published.Add(instrument);
                    }
                }
            },
        };
        listener.Start();
        Instrument[] instruments;
        lock (published)
        {
            instruments = [.. published];
        }

        Assert.Contains(instruments, i => i.Name == "gracefullifecycle.drain.duration");
        Assert.All(instruments, i =>
        {
            Assert.Matches("^gracefullifecycle(\\.[a-z_]+)+$", i.Name);
            Assert.False(string.IsNullOrEmpty(i.Unit), i.Name);
            Assert.False(string.IsNullOrEmpty(i.Description), i.Name);
            if (i.Name.EndsWith(".duration", StringComparison.Ordinal))
            {
                Assert.Equal("s", i.Unit);
                Assert.IsType<Histogram<double>>(i);
            }
        });
    }

    private static async Task DrainAsync(LifecycleTestServices h, TimeSpan drainFor)
    {
        await h.Coordinator.RunStartupAsync(CancellationToken.None);
        var leave = h.Coordinator.LeaveAsync();
        await h.Time.AdvanceUntilAsync(() => leave.IsCompleted, "the delay");
        await h.Coordinator.OnHostStoppingAsync(CancellationToken.None);
        h.Time.Advance(drainFor);
        h.Coordinator.OnHostStopped();
    }

    private static MetricCollector<T> Collector<T>(LifecycleTestServices h, string instrument)
        where T : struct =>
        new(h.Services.GetRequiredService<IMeterFactory>(), Meter, instrument);

    private static (double Value, string? Outcome) Only(MetricCollector<double> collector)
    {
        var measurement = Assert.Single(collector.GetMeasurementSnapshot());
        return (measurement.Value, measurement.Tags["gracefullifecycle.outcome"] as string);
    }

    private static Dictionary<string, int> Latest(MetricCollector<int> collector) =>
        collector.GetMeasurementSnapshot().ToDictionary(m => (string)m.Tags["gracefullifecycle.phase"]!, m => m.Value);
}
