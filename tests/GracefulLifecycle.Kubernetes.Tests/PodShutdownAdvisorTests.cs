using GracefulLifecycle.TestSupport;
using GracefulLifecycle.TestSupport.Kubernetes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.Kubernetes.Tests;

/// <summary>The pod read at shutdown, against the fake API server: which case, which deadline, what the delay waits for.</summary>
public sealed class PodShutdownAdvisorTests
{
    private static readonly DateTimeOffset Deleted = new(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task PodDeleted_DeadlineIsDeletionTimestamp_WhenTheTerminationStartedAfterTheRequest()
    {
        await using var api = await FakeKubernetesApiServer.StartAsync();
        api.MarkDeleted(gracePeriodSeconds: 8, now: Deleted);
        await using var services = PodReaderTests.Services(api.Configuration);

        // SIGTERM 1 s after the delete request: the kubelet kills at +9 s at the earliest; deletionTimestamp is +8 s.
        var advice = await AdviseAsync(services, Deleted.AddSeconds(1));

        Assert.NotNull(advice);
        Assert.Equal(Deleted.AddSeconds(8), advice.Deadline);
        Assert.Equal(TimeSpan.FromSeconds(2), advice.MinimumDelay);
        Assert.Null(advice.HoldUntil);
        Assert.Equal("Kubernetes: pod deleted with a grace period of 8 s (spec 30 s)", advice.Case);
    }

    [Fact]
    public async Task PodDeleted_DeadlineIsTheTerminationStartPlusTheGrace_WhenTheApiServersClockIsAhead()
    {
        await using var api = await FakeKubernetesApiServer.StartAsync();
        api.MarkDeleted(gracePeriodSeconds: 8, now: Deleted);
        await using var services = PodReaderTests.Services(api.Configuration);

        // This node's clock reads the termination start 5 s before the API server's request time.
        var advice = await AdviseAsync(services, Deleted.AddSeconds(-5));

        Assert.Equal(Deleted.AddSeconds(3), advice!.Deadline);
    }

    [Fact]
    public async Task NotDeleted_HoldsUntilTheKubeletsThresholdOfFailedReadinessAnswers_CountingOnlyTheKubelets()
    {
        await using var api = await FakeKubernetesApiServer.StartAsync();
        await using var services = PodReaderTests.Services(api.Configuration);
        var probes = services.GetRequiredService<KubeletProbes>();

        var advice = await AdviseAsync(services, Deleted);

        Assert.NotNull(advice);
        Assert.Equal(Deleted.AddSeconds(30), advice.Deadline);
        var hold = Assert.IsAssignableFrom<Task>(advice.HoldUntil);
        Assert.Contains("failed readiness probe 3 of 3", advice.HoldReason, StringComparison.Ordinal);

        probes.Answered(Answer("/ifready", 503, "kube-probe/1.31"));
        probes.Answered(Answer("/ifready", 503, "HAProxy"));
        probes.Answered(Answer("/health", 503, "kube-probe/1.31"));
        probes.Answered(Answer("/ifready", 200, "kube-probe/1.31"));
        probes.Answered(Answer("/ifready", 503, "kube-probe/1.31"));
        Assert.False(hold.IsCompleted, "two failed kubelet probes of three");

        probes.Answered(Answer("/ifready", 503, "kube-probe/1.31"));
        await Eventually.DoneAsync(hold, "the hold ends at the third failed kubelet probe");
    }

    [Fact]
    public async Task NotDeleted_FailuresBeforeTheShutdownStarted_DoNotCount()
    {
        await using var api = await FakeKubernetesApiServer.StartAsync();
        await using var services = PodReaderTests.Services(api.Configuration);
        var probes = services.GetRequiredService<KubeletProbes>();

        // Readiness failing during a slow start, long before the shutdown.
        for (var i = 0; i < 5; i++)
        {
            probes.Answered(Answer("/ifready", 503, "kube-probe/1.31"));
        }

        var advice = await AdviseAsync(services, Deleted);
        probes.Answered(Answer("/ifready", 503, "kube-probe/1.31"));

        Assert.False(advice!.HoldUntil!.IsCompleted);
    }

    [Fact]
    public async Task NotDeleted_ExecReadinessProbe_HoldsForItsTimingFromLeaving()
    {
        var time = new FakeTimeProvider();
        await using var api = await FakeKubernetesApiServer.StartAsync();
        api.UpdatePod(p => p.Container.ReadinessProbe = new FakeProbe(FakeHandler.Exec("cat", "/tmp/ready")) { PeriodSeconds = 2, FailureThreshold = 3, TimeoutSeconds = 1 });
        await using var services = PodReaderTests.Services(api.Configuration, time: time);

        var advice = await AdviseAsync(services, time.GetUtcNow());
        var hold = advice!.HoldUntil!;

        // 2 s x 3 + 1 s.
        time.Advance(TimeSpan.FromSeconds(7) - TimeSpan.FromMilliseconds(1));
        Assert.False(hold.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await Eventually.DoneAsync(hold, "the hold ends after the probe's timing");
    }

    [Fact]
    public async Task PodNotReadable_GivesNoAdvice()
    {
        await using var api = await FakeKubernetesApiServer.StartAsync();
        api.FailWith(403);
        await using var services = PodReaderTests.Services(api.Configuration);

        Assert.Null(await AdviseAsync(services, Deleted));
    }

    private static async Task<ShutdownAdvice?> AdviseAsync(IServiceProvider services, DateTimeOffset terminationStartedAt)
    {
        var advisor = Assert.IsType<PodShutdownAdvisor>(Assert.Single(services.GetServices<IShutdownAdvisor>()));
        return await advisor.AdviseAsync(new ShutdownAdviceContext("SIGTERM", terminationStartedAt, terminationStartedAt), CancellationToken.None);
    }

    private static DefaultHttpContext Answer(string path, int status, string userAgent)
    {
        var context = new DefaultHttpContext();
        context.Request.Path = path;
        context.Request.Headers.UserAgent = userAgent;
        context.Response.StatusCode = status;
        return context;
    }
}
