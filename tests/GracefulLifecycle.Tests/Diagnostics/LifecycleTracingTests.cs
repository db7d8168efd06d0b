using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.Tests.Infrastructure;
using GracefulLifecycle.Tests.Registration;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.Tests.Diagnostics;

/// <summary>
/// The spans on the "GracefulLifecycle" source, read by an <see cref="ActivityListener"/> as OpenTelemetry's
/// <c>AddSource("GracefulLifecycle")</c> reads them. The listener hears every test of the process: each test picks its
/// own spans out by a registry or task name of its own, or by a span of its own that the shutdown links to.
/// </summary>
public sealed class LifecycleTracingTests : IDisposable
{
    private readonly ConcurrentQueue<Activity> _started = new();
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;
    private readonly string _id = Guid.NewGuid().ToString("N")[..8];

    public LifecycleTracingTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "GracefulLifecycle" || source.Name == TestSourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = _started.Enqueue,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    private const string TestSourceName = "GracefulLifecycle.Tests.Tracing";

    private static ActivitySource TestSource { get; } = new(TestSourceName);

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task RealHost_PreloadRegistryCallsAndShutdown_AreSpans_TheDeregistrationUnderTheShutdown()
    {
        var registryName = $"Traced-{_id}";
        var task = $"warm-{_id}";
        var registry = new RecordingRegistry(registryName) { VisibilityDelay = TimeSpan.Zero, PropagationDelay = TimeSpan.FromSeconds(1) };
        registry.FailNextRegistrations(1);
        string? ambientInPreload = null;
        await using var host = await LifecycleTestHost.StartAsync(
            configure: b => b.AddPreload(task, (_, _) =>
            {
                ambientInPreload = Activity.Current?.DisplayName;
                return Task.CompletedTask;
            }),
            options: o => o.Registration.RetryInitialDelay = TimeSpan.FromSeconds(1),
            services: s => s.AddSingleton<IServiceRegistry>(registry));

        // The first registration fails; its retry waits 1 s of fake time; then a renewal after 10 s.
        await Eventually.TrueAsync(() => host.Time.HasTimerDueIn(TimeSpan.FromSeconds(1)), "the retry armed");
        host.Time.Advance(TimeSpan.FromSeconds(1));
        await Eventually.DoneAsync(host.Lifecycle.Ready, "ready");
        await Eventually.TrueAsync(() => host.Time.HasTimerDueIn(TimeSpan.FromSeconds(10)), "the renewal armed");
        host.Time.Advance(TimeSpan.FromSeconds(10));
        await Eventually.TrueAsync(() => Registry(registryName, "renew").Length == 1, "the renewal's span");

        // Stopped as SIGTERM does; the 5 s delay moved exactly once it is armed, so its end is at +5 s.
        var stop = host.BeginStopAsync();
        await Eventually.TrueAsync(() => host.Time.HasTimerDueIn(TimeSpan.FromSeconds(5)), "the delay armed");
        host.Time.Advance(TimeSpan.FromSeconds(5));
        await Eventually.DoneAsync(stop, "the host stopped");

        var preloadTask = Assert.Single(_stopped, a => a.OperationName == "GracefulLifecycle.PreloadTask" && Equals(a.GetTagItem("gracefullifecycle.preload.task"), task));
        Assert.Equal($"preload {task}", preloadTask.DisplayName);
        Assert.Equal(ActivityStatusCode.Unset, preloadTask.Status);
        Assert.Equal($"preload {task}", ambientInPreload);
        var preload = Assert.Single(_stopped, a => a.SpanId == preloadTask.ParentSpanId);
        Assert.Equal(("GracefulLifecycle.Preload", "preload"), (preload.OperationName, preload.DisplayName));

        var registers = Registry(registryName, "register");
        Assert.Equal(2, registers.Length);
        Assert.Equal(($"register {registryName}", ActivityStatusCode.Error, "System.Net.Http.HttpRequestException"), (registers[0].DisplayName, registers[0].Status, registers[0].GetTagItem("error.type")));
        Assert.Equal((ActivityStatusCode.Unset, null), (registers[1].Status, registers[1].GetTagItem("error.type")));
        Assert.All(registers, r => Assert.Equal(default, r.ParentSpanId));
        Assert.Equal(ActivityStatusCode.Unset, Assert.Single(Registry(registryName, "renew")).Status);

        var deregister = Assert.Single(Registry(registryName, "deregister"));
        Assert.Equal(ActivityStatusCode.Unset, deregister.Status);
        var shutdown = Assert.Single(_stopped, a => a.SpanId == deregister.ParentSpanId);
        Assert.Equal(("GracefulLifecycle.Shutdown", "shutdown", deregister.TraceId), (shutdown.OperationName, shutdown.DisplayName, shutdown.TraceId));
        Assert.Equal("host stopping", shutdown.GetTagItem("gracefullifecycle.shutdown.trigger"));
        Assert.Equal(ActivityStatusCode.Unset, shutdown.Status);
        var events = shutdown.Events.Select(e => (e.Name, Offset: e.Timestamp - shutdown.StartTimeUtc, Reason: e.Tags.FirstOrDefault().Value)).ToArray();
        Assert.Equal(["delay_ended", "drain_started", "drain_ended"], events.Select(e => e.Name));
        Assert.Equal((TimeSpan.FromSeconds(5), "elapsed"), (events[0].Offset, events[0].Reason));
        Assert.Equal("completed", events[2].Reason);
        Assert.Equal(shutdown.StartTimeUtc + TimeSpan.FromSeconds(5), shutdown.StartTimeUtc + shutdown.Duration);
    }

    [Fact]
    public async Task Shutdown_SecondSignalAndADrainPastItsDeadline_SayWhyEachEnded_AndTheSpanFailsWithTimeout()
    {
        using var h = LifecycleTestServices.Build();
        await h.Coordinator.RunStartupAsync(CancellationToken.None);

        // Started inside a span of the test's own (as inside a /prestop request): the shutdown is a trace of its own,
        // linked to it, and the test's span is still the ambient one afterwards.
        using (var caller = TestSource.StartActivity($"caller-{_id}"))
        {
            h.Coordinator.OnSignal(PosixSignal.SIGTERM);
            Assert.Same(caller, Activity.Current);
        }

        await Eventually.TrueAsync(() => h.Time.HasTimerDueIn(TimeSpan.FromSeconds(5)), "the delay armed");
        h.Time.Advance(TimeSpan.FromSeconds(2));
        h.Coordinator.OnSignal(PosixSignal.SIGINT);
        await Eventually.TrueAsync(() => h.HostLifetime.StopCalls == 1, "the host asked to stop");
        await h.Coordinator.OnHostStoppingAsync(CancellationToken.None);
        h.Time.Advance(TimeSpan.FromSeconds(10));
        h.Coordinator.OnHostStopped();

        var caller1 = Assert.Single(_stopped, a => a.DisplayName == $"caller-{_id}");
        var shutdown = Assert.Single(_stopped, a => a.OperationName == "GracefulLifecycle.Shutdown" && a.Links.Any(l => l.Context.SpanId == caller1.SpanId));
        Assert.NotEqual(caller1.TraceId, shutdown.TraceId);
        Assert.Equal(default, shutdown.ParentSpanId);
        Assert.Equal("SIGTERM", shutdown.GetTagItem("gracefullifecycle.shutdown.trigger"));
        var events = shutdown.Events.Select(e => (e.Name, Offset: e.Timestamp - shutdown.StartTimeUtc, Reason: e.Tags.FirstOrDefault().Value)).ToArray();
        Assert.Equal(["delay_ended", "drain_started", "drain_ended"], events.Select(e => e.Name));
        Assert.Equal((TimeSpan.FromSeconds(2), "skipped"), (events[0].Offset, events[0].Reason));
        Assert.Equal((TimeSpan.FromSeconds(12), "timed_out"), (events[2].Offset, events[2].Reason));
        Assert.Equal((ActivityStatusCode.Error, "timeout"), (shutdown.Status, shutdown.GetTagItem("error.type")));
        Assert.Equal(TimeSpan.FromSeconds(12), shutdown.Duration);
    }

    [Fact]
    public async Task Shutdown_ALeaveThatEndsInARejoin_EndsItsSpanWithRejoined_AndTheNextLeaveHasASpanOfItsOwn()
    {
        using var h = LifecycleTestServices.Build();
        await h.Coordinator.RunStartupAsync(CancellationToken.None);
        Task first;
        using (TestSource.StartActivity($"first-{_id}"))
        {
            first = h.Coordinator.LeaveAsync();
        }

        await h.Time.AdvanceUntilAsync(() => first.IsCompleted, "the first leave's delay");
        Assert.True(h.Coordinator.TryRejoin());
        await Eventually.TrueAsync(() => h.Coordinator.Phase == LifecyclePhase.Ready, "ready again");
        using (TestSource.StartActivity($"second-{_id}"))
        {
            _ = h.Coordinator.LeaveAsync();
        }

        var rejoined = ShutdownLinkedTo($"first-{_id}");
        Assert.Equal(["delay_ended", "rejoined"], rejoined.Events.Select(e => e.Name));
        Assert.Equal(ActivityStatusCode.Unset, rejoined.Status);
        var second = SpanOf($"second-{_id}");
        var next = Assert.Single(_started, a => a.OperationName == "GracefulLifecycle.Shutdown" && a.Links.Any(l => l.Context.SpanId == second.SpanId));
        Assert.NotEqual(rejoined.TraceId, next.TraceId);
        Assert.DoesNotContain(next, _stopped);
    }

    [Fact]
    public async Task Preload_ATaskThatThrows_FailsItsSpanWithTheExceptionType_ACancelledSiblingAndThePreloadToo()
    {
        var failing = $"failing-{_id}";
        var waiting = $"waiting-{_id}";
        using var h = LifecycleTestServices.Build(configure: b => b
            .AddPreload(failing, (_, _) => throw new InvalidDataException("bad catalog"))
            .AddPreload(waiting, (_, ct) => Task.Delay(Timeout.Infinite, ct)));

        await h.Coordinator.RunStartupAsync(CancellationToken.None);

        var failed = TaskSpan(failing);
        Assert.Equal((ActivityStatusCode.Error, "System.IO.InvalidDataException", "bad catalog"), (failed.Status, failed.GetTagItem("error.type"), failed.StatusDescription));
        Assert.Contains(failed.Events, e => e.Name == "exception");
        var canceled = TaskSpan(waiting);
        Assert.Equal((ActivityStatusCode.Error, "canceled"), (canceled.Status, canceled.GetTagItem("error.type")));
        var preload = Assert.Single(_stopped, a => a.SpanId == failed.ParentSpanId);
        Assert.Equal(canceled.ParentSpanId, preload.SpanId);
        Assert.Equal((ActivityStatusCode.Error, "failed"), (preload.Status, preload.GetTagItem("error.type")));

        Activity TaskSpan(string name) => Assert.Single(_stopped, a => Equals(a.GetTagItem("gracefullifecycle.preload.task"), name));
    }

    [Fact]
    public async Task RegistryCalls_LostRenewalAndDeregistrationPastItsTimeout_CarryTheirErrorType()
    {
        var registryName = $"Lost-{_id}";
        var registry = new RecordingRegistry(registryName) { VisibilityDelay = TimeSpan.Zero, RenewResult = false, DeregisterHangs = true };
        using var h = LifecycleTestServices.Build(configure: b => b.Services.AddSingleton<IServiceRegistry>(registry));
        await h.Coordinator.RunStartupAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => h.Time.HasTimerDueIn(TimeSpan.FromSeconds(10)), "the renewal armed");
        h.Time.Advance(TimeSpan.FromSeconds(10));
        await Eventually.TrueAsync(() => Registry(registryName, "register").Length == 2, "registered again after the lost renewal");

        var leave = h.Coordinator.LeaveAsync();
        await h.Time.AdvanceUntilAsync(() => leave.IsCompleted, "the deregistration timed out and the delay served");

        Assert.Equal((ActivityStatusCode.Error, "registration_lost"), Only(registryName, "renew"));
        Assert.Equal((ActivityStatusCode.Error, "timeout"), Only(registryName, "deregister"));
    }

    private Activity SpanOf(string displayName) => Assert.Single(_stopped, a => a.DisplayName == displayName);

    private Activity ShutdownLinkedTo(string displayName)
    {
        var caller = SpanOf(displayName);
        return Assert.Single(_stopped, a => a.OperationName == "GracefulLifecycle.Shutdown" && a.Links.Any(l => l.Context.SpanId == caller.SpanId));
    }

    private (ActivityStatusCode, object?) Only(string registry, string operation)
    {
        var span = Assert.Single(Registry(registry, operation));
        return (span.Status, span.GetTagItem("error.type"));
    }

    private Activity[] Registry(string registry, string operation) =>
        [.. _stopped.Where(a => a.OperationName == "GracefulLifecycle.RegistryCall"
            && Equals(a.GetTagItem("gracefullifecycle.registry.name"), registry)
            && Equals(a.GetTagItem("gracefullifecycle.registry.operation"), operation))];
}
