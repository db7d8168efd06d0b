using System.Diagnostics.Metrics;
using System.Net;
using System.Runtime.InteropServices;
using GracefulLifecycle.Adaptive;
using GracefulLifecycle.Diagnostics;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.Tests.Infrastructure;
using GracefulLifecycle.Tests.Registration;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.Tests.Adaptive;

/// <summary>
/// The adaptive delay on fake time: a peer's requests are recorded as the middleware records them, the clock is moved
/// by hand, and the delay's end is read from the shutdown timeline (set where the delay ends, in fake time).
/// </summary>
public sealed class AdaptiveDelayTests
{
    private static readonly TimeSpan Maximum = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Every = TimeSpan.FromMilliseconds(10);
    private static readonly IPAddress Balancer = IPAddress.Parse("10.0.0.1");
    private static readonly IPAddress Other = IPAddress.Parse("10.0.0.2");

    [Fact]
    public async Task Disabled_ByDefault_TheFixedDelayIsServedInFull_ThoughTrafficStoppedAtOnce()
    {
        using var h = await ReadyAsync(enabled: false);
        Assert.False(Traffic(h).Enabled);
        Send(h, Balancer, TimeSpan.FromSeconds(2));

        var leave = h.Coordinator.LeaveAsync();
        h.Time.Advance(Maximum - TimeSpan.FromMilliseconds(1));
        Assert.False(leave.IsCompleted);
        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        await Eventually.DoneAsync(leave, "the fixed delay");

        Assert.Equal(DelayEnd.Elapsed, Timeline(h).DelayEnd);
        Assert.Equal(Maximum, Timeline(h).DelayEndedAfter);
    }

    [Fact]
    public async Task PeerGoingQuietAfterLeaving_EndsTheDelayOneQuietPeriodAfterItsLastRequest()
    {
        using var h = await ReadyAsync();
        using var metrics = new Recorder(h.Services);
        Send(h, Balancer, TimeSpan.FromSeconds(2));

        var leave = h.Coordinator.LeaveAsync();

        // The balancer notices 1.5 s later: its requests go on until then.
        Send(h, Balancer, TimeSpan.FromMilliseconds(1500));
        var lastRequest = TimeSpan.FromMilliseconds(1490);
        await AdvanceUntilEndedAsync(h);

        // 100 requests/s: 10 × 10 ms is below the 500 ms floor of a quiet period.
        Assert.Equal(DelayEnd.Quiet, Timeline(h).DelayEnd);
        Assert.Equal(lastRequest + TimeSpan.FromMilliseconds(500), Timeline(h).DelayEndedAfter);
        await Eventually.DoneAsync(leave, "leave after the quiet period");
        Assert.Equal([("quiet", 1.99)], metrics.Delays);
    }

    /// <summary>
    /// One skeleton for the delay's rules: ready, the peers' traffic before leaving, leave, their traffic after it,
    /// then fake time moves until the delay ends and the row's outcome is checked (how it ended, when, what it logged).
    /// </summary>
    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task AdaptiveDelay_InScenario_EndsAsTheRuleSays(string scenario)
    {
        var row = ScenarioRows[scenario];
        using var h = await ReadyAsync(configure: row.Configure);
        row.BeforeLeaving?.Invoke(h);

        _ = h.Coordinator.LeaveAsync();
        row.AfterLeaving?.Invoke(h);
        await AdvanceUntilEndedAsync(h);

        Assert.Equal(row.End, Timeline(h).DelayEnd);
        if (row.EndedAfter is { } exactly)
        {
            Assert.Equal(exactly, Timeline(h).DelayEndedAfter);
        }

        if (row.EndedWithin is var (from, to))
        {
            Assert.InRange(Timeline(h).DelayEndedAfter!.Value, from, to);
        }

        foreach (var (id, text) in row.Logged)
        {
            Assert.Contains(h.Logs.Lines, l => l.Contains(id, StringComparison.Ordinal) && l.Contains(text, StringComparison.Ordinal));
        }

        row.Also?.Invoke(h);
    }

    public static TheoryData<string> Scenarios => [.. ScenarioRows.Keys];

    /// <summary>The rows of <see cref="AdaptiveDelay_InScenario_EndsAsTheRuleSays"/>, each named after what it shows.</summary>
    private static readonly Dictionary<string, DelayScenario> ScenarioRows = new DelayScenario[]
    {
        new("PeerSilentFromTheStart_StillWaitsTheMinimumDelay", DelayEnd.Quiet)
        {
            BeforeLeaving = h => Send(h, Balancer, TimeSpan.FromSeconds(2)),
            EndedAfter = TimeSpan.FromSeconds(1),
        },
        new("QuietPeriod_ScalesWithThePeersOwnRate", DelayEnd.Quiet)
        {
            // One request every 200 ms: 10 mean gaps are 2 s.
            BeforeLeaving = h => Send(h, Balancer, TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(200)),
            EndedWithin = (TimeSpan.FromMilliseconds(1800), TimeSpan.FromMilliseconds(2000)),
        },
        new("QuietPeriod_IsAtLeastTwiceTheLongestPauseThePeerMadeBeforeLeaving", DelayEnd.Quiet)
        {
            // 100 requests/s, but one pause of 700 ms in the window (a busy machine, a burst): quiet for 1.4 s, not 0.5 s.
            BeforeLeaving = h =>
            {
                Send(h, Balancer, TimeSpan.FromSeconds(1));
                h.Time.Advance(TimeSpan.FromMilliseconds(690)); // 700 ms from the last request, sent 10 ms before the end
                Send(h, Balancer, TimeSpan.FromSeconds(1));
            },
            AfterLeaving = h => Send(h, Balancer, TimeSpan.FromMilliseconds(500)),
            EndedAfter = TimeSpan.FromMilliseconds(490 + 1400),
        },
        new("PeerThatKeepsSending_MakesTheDelayLastTheMaximum", DelayEnd.Maximum)
        {
            BeforeLeaving = h => Send(h, Balancer, TimeSpan.FromSeconds(2)),
            AfterLeaving = h => Send(h, Balancer, Maximum + TimeSpan.FromSeconds(1)),
            EndedAfter = Maximum,
        },
        new("RareSender_MakesTheDelayLastTheMaximum", DelayEnd.Maximum)
        {
            // One request in the window (2 s here): its rate reads as at most one per bucket of 1 s, and 10 such gaps
            // reach the maximum.
            BeforeLeaving = SendingWithARareSender,
            EndedAfter = Maximum,
        },
        new("RareSender_HoldingTheDelayToTheMaximum_IsLoggedAsTooRareToTell", DelayEnd.Maximum)
        {
            // Regression: the lines said "0 too rarely to tell" while this very peer, whose quiet period (10 s) is the
            // whole maximum, held the delay there.
            BeforeLeaving = SendingWithARareSender,
            Logged =
            [
                ("[80]", "peers sending before leaving: 2, of them too rarely to tell: 1"),
                ("[81]", "peers sending before leaving: 2, of them too rarely to tell: 1,"),
                ("[81]", "last to go quiet: 10.0.0.2"),
            ],
        },
        new("NoTrafficAtAll_WaitsTheMaximum_NothingShowsTheRoutesHaveMoved", DelayEnd.Maximum)
        {
            Logged = [("[81]", "no traffic before leaving")],
        },
        new("PeerWhoseRequestsAreAllProbes_IsNotTraffic", DelayEnd.Maximum)
        {
            // Probes alone: no traffic, so the maximum; had they counted, 1 s.
            BeforeLeaving = h =>
            {
                foreach (var path in new[] { "/ifready", "/health", "/prestop", "/IFREADY", "/health/" })
                {
                    Send(h, Other, TimeSpan.FromMilliseconds(400), path: path);
                }
            },
            Also = h => Assert.Empty(Traffic(h).AfterLeaving()),
        },
        new("ProbesAfterLeaving_DoNotHoldTheDelay", DelayEnd.Quiet)
        {
            BeforeLeaving = h => Send(h, Balancer, TimeSpan.FromSeconds(2)),
            AfterLeaving = h =>
            {
                Send(h, Balancer, TimeSpan.FromMilliseconds(1500));

                // The balancer goes on checking readiness every 10 ms: the delay ends anyway.
                Send(h, Balancer, TimeSpan.FromSeconds(3), path: "/ifready");
            },
            EndedAfter = TimeSpan.FromMilliseconds(1990),
        },
        new("BalancerThatChecksReadiness_TrafficStoppingAtAFailedCheck_HasMovedOneQuietPeriodAfterItsLastRequest", DelayEnd.Quiet)
        {
            BeforeLeaving = h => SendCheckingReadiness(h, TimeSpan.FromSeconds(2)),
            AfterLeaving = h =>
            {
                // The failed check that takes the instance out, and 40 ms of requests the balancer sent before it had the answer.
                Send(h, Balancer, TimeSpan.FromSeconds(1));
                Check(h);
                Send(h, Balancer, TimeSpan.FromMilliseconds(50));
            },

            // No further check needed: the last request (+1040 ms) and its quiet period of 500 ms.
            EndedAfter = TimeSpan.FromMilliseconds(1040 + 500),
            Logged = [("[81]", "its last request 40 ms after a failed readiness check")],
        },
        new("BalancerThatChecksReadiness_PausingLongAfterAFailedCheck_HasNotMoved_UntilItChecksWithNoRequestSince", DelayEnd.Quiet)
        {
            BeforeLeaving = h => SendCheckingReadiness(h, TimeSpan.FromSeconds(2)),
            AfterLeaving = h =>
            {
                // A pause of 1 s (twice the quiet period) with no check since leaving: the balancer, or the machine, stalled.
                Send(h, Balancer, TimeSpan.FromSeconds(1));
                Pause(h, TimeSpan.FromSeconds(1));
                Assert.Null(Timeline(h).DelayEndedAfter);

                // A failed check it goes on routing through (the first of fall 2), then a pause 490 ms after it: not the
                // check's doing, so the delay waits for the next check, which comes with no request since.
                Check(h);
                Send(h, Balancer, TimeSpan.FromMilliseconds(500));
                PauseThenCheck(h);
            },
            EndedAfter = TimeSpan.FromMilliseconds(3500),
            Logged = [EndedByTheNextCheck],
        },
        new("BalancerThatChecksReadiness_UnderCheckAfterQuietPeriod_TrafficStoppingAtAFailedCheck_WaitsForItsNextCheck", DelayEnd.Quiet)
        {
            Configure = o => o.AdaptiveDelay.ReadinessCheck = ReadinessCheckRule.CheckAfterQuietPeriod,
            BeforeLeaving = h => SendCheckingReadiness(h, TimeSpan.FromSeconds(2)),
            AfterLeaving = h =>
            {
                // Routing goes on through a failed check; then the failed check that takes the instance out (the last
                // request just before it): under the default rule the delay would end at +1490 ms, here the next check
                // shows it.
                Send(h, Balancer, TimeSpan.FromMilliseconds(500));
                Check(h);
                Send(h, Balancer, TimeSpan.FromMilliseconds(500));
                Check(h);
                PauseThenCheck(h);
            },
            EndedAfter = TimeSpan.FromMilliseconds(2000),
            Logged = [EndedByTheNextCheck],
        },
        new("BalancerThatChecksReadiness_WithReadinessCheckIgnored_ItsSilenceAloneEndsTheDelay", DelayEnd.Quiet)
        {
            Configure = o => o.AdaptiveDelay.ReadinessCheck = ReadinessCheckRule.Ignore,
            BeforeLeaving = h => SendCheckingReadiness(h, TimeSpan.FromSeconds(2)),
            AfterLeaving = h => Send(h, Balancer, TimeSpan.FromSeconds(1)),
            EndedAfter = TimeSpan.FromMilliseconds(990 + 500),
        },
        new("BalancerThatStopsChecking_AfterGoingQuiet_MakesTheDelayLastTheMaximum", DelayEnd.Maximum)
        {
            // Quiet, but no check came to confirm it: the safe answer.
            BeforeLeaving = h => SendCheckingReadiness(h, TimeSpan.FromSeconds(2)),
            AfterLeaving = h => Send(h, Balancer, TimeSpan.FromSeconds(1)),
            Logged = [("[81]", "its next readiness check awaited")],
        },
        new("ReadinessChecksThatStoppedBeforeLeaving_ADeployScriptWaitingForReady_AreNoBalancersHealthCheck", DelayEnd.Quiet)
        {
            // Ten checks 10 ms apart while the instance started, from the address the traffic then comes from
            // (loopback in a test rig, a node's address): the last is 2 s old at leaving, far more than twice their
            // 10 ms pace. Its silence alone ends the delay; had the burst made it a checker, the delay would have
            // lasted the maximum.
            BeforeLeaving = h =>
            {
                for (var i = 0; i < 10; i++)
                {
                    Check(h);
                    h.Time.Advance(Every);
                }

                Send(h, Balancer, TimeSpan.FromSeconds(2));
            },
            AfterLeaving = h => Send(h, Balancer, TimeSpan.FromSeconds(1)),
            EndedAfter = TimeSpan.FromMilliseconds(990 + 500),
        },
        new("ChecksFromAnotherAddress_DoNotHoldTheDelay", DelayEnd.Quiet)
        {
            // A kubelet probing from the node's address while the traffic comes from a balancer elsewhere.
            BeforeLeaving = h =>
            {
                for (var i = 0; i < 2; i++)
                {
                    Traffic(h).Record(Other, "/ifready", afterLeaving: false);
                    Send(h, Balancer, TimeSpan.FromSeconds(1));
                }
            },
            AfterLeaving = h => Send(h, Balancer, TimeSpan.FromSeconds(1)),
            EndedAfter = TimeSpan.FromMilliseconds(990 + 500),
        },
        new("ExcludedPath_IsNotTraffic", DelayEnd.Quiet)
        {
            Configure = o => o.AdaptiveDelay.ExcludedPaths.Add("/metrics"),
            BeforeLeaving = h =>
            {
                Send(h, Balancer, TimeSpan.FromSeconds(2));
                Send(h, Other, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(50), "/metrics");
            },
        },
        new("PeerFirstSeenAfterLeaving_MakesTheDelayLastTheMaximum", DelayEnd.Maximum)
        {
            BeforeLeaving = h => Send(h, Balancer, TimeSpan.FromSeconds(2)),
            AfterLeaving = h =>
            {
                h.Time.Advance(TimeSpan.FromMilliseconds(300));
                Traffic(h).Record(Other, "/", afterLeaving: true);
            },
        },
        new("PeersBeyondTheLimit_MakeTheDelayLastTheMaximum", DelayEnd.Maximum)
        {
            Configure = o => o.AdaptiveDelay.MaxPeers = 1,
            BeforeLeaving = h =>
            {
                Send(h, Balancer, TimeSpan.FromSeconds(1));
                Send(h, Other, TimeSpan.FromSeconds(1));
            },

            // The limit is reported.
            Logged = [("[83]", string.Empty)],
        },
    }.ToDictionary(s => s.Name, StringComparer.Ordinal);

    [Fact]
    public async Task KnownPeer_WhoseRequestArrivesBetweenThePhaseChangeAndTheSnapshot_IsNoNewcomer()
    {
        // Regression: in the drill a request landing between readiness failing and the snapshot of the rates made the
        // load balancer look first seen after leaving, and the delay last the maximum.
        using var h = await ReadyAsync();
        Send(h, Balancer, TimeSpan.FromSeconds(2));
        Traffic(h).Record(Balancer, "/", afterLeaving: true);

        Traffic(h).MarkLeaving();
        var estimate = Traffic(h).WhenAllQuiet();

        Assert.Equal((1, 0, 0), (estimate.Sending, estimate.TooRare, estimate.Newcomers));
        Assert.NotEqual(long.MaxValue, estimate.QuietAt);
    }

    [Fact]
    public async Task RegistrySidePart_IsAFloor_ThoughTheTrafficStoppedAtLeaving()
    {
        // 3 s of registry cache: until then a consumer that has not called yet can still be handed the instance.
        using var h = await RegisteredAsync(Chain(registry: 3, refresh: 2, loadBalancer: 4));
        Send(h, Balancer, TimeSpan.FromSeconds(2));

        var leave = h.Coordinator.LeaveAsync();
        await h.Time.AdvanceUntilAsync(() => leave.IsCompleted, "leave", TimeSpan.FromMilliseconds(20));

        // Not the 1 s minimum (the balancer went quiet at once), not the whole 9.5 s chain (its traffic showed it moved).
        Assert.Equal(DelayEnd.Quiet, Timeline(h).DelayEnd);
        Assert.InRange(Timeline(h).DelayEndedAfter!.Value, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(3.1));
        Assert.Contains(h.Logs.Lines, l => l.Contains("[80]", StringComparison.Ordinal) && l.Contains("at least 00:00:03 (set by Recording registry cache)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ConsumerCachePart_EndsEarly_OnceTheConsumersThatCallHaveGoneQuiet()
    {
        // A consumer whose load balancer keeps the instance 6 s calls it until its cache expires, 4 s after leaving.
        using var h = await RegisteredAsync(Chain(registry: 1, refresh: 0, loadBalancer: 6));
        Send(h, Balancer, TimeSpan.FromSeconds(2));

        var leave = h.Coordinator.LeaveAsync();
        await Eventually.TrueAsync(() => h.Logs.Contains("[80]"), "deregistered, the adaptive delay started");
        Send(h, Balancer, TimeSpan.FromSeconds(4));
        await h.Time.AdvanceUntilAsync(() => leave.IsCompleted, "leave", TimeSpan.FromMilliseconds(20));

        // One quiet period (0.5 s) after its last request at 3.99 s: well before the 7.5 s chain, after the 1 s floor.
        Assert.Equal(DelayEnd.Quiet, Timeline(h).DelayEnd);
        Assert.InRange(Timeline(h).DelayEndedAfter!.Value, TimeSpan.FromSeconds(4.49), TimeSpan.FromSeconds(4.6));
    }

    [Fact]
    public async Task ConsumersThatNeverCalled_GiveNoEvidence_TheWholeChainIsServed()
    {
        // The chain (2 + 30 + 0.5 s) raises the 10 s maximum; no peer sent anything, so nothing shows the consumers moved.
        using var h = await RegisteredAsync(Chain(registry: 2, refresh: 0, loadBalancer: 30), grace: TimeSpan.FromSeconds(90));

        var leave = h.Coordinator.LeaveAsync();

        // The deregistration takes no fake time: the clock moves once the delay is armed, whatever the machine's load.
        await Eventually.TrueAsync(() => h.Time.HasTimerDueIn(TimeSpan.FromSeconds(32.5)), "the delay armed after the deregistration");
        await h.Time.AdvanceUntilAsync(() => leave.IsCompleted, "leave", TimeSpan.FromMilliseconds(100));

        // Counted from the end of the deregistration.
        Assert.Equal(DelayEnd.Maximum, Timeline(h).DelayEnd);
        Assert.InRange(Timeline(h).DelayEndedAfter!.Value, TimeSpan.FromSeconds(32.5), TimeSpan.FromSeconds(32.6));
    }

    [Fact]
    public async Task SecondSignal_CutsTheAdaptiveDelayShort()
    {
        using var h = await ReadyAsync();
        Send(h, Balancer, TimeSpan.FromSeconds(2));

        h.Coordinator.OnSignal(PosixSignal.SIGTERM);
        Send(h, Balancer, TimeSpan.FromSeconds(2));
        h.Coordinator.OnSignal(PosixSignal.SIGTERM);
        await Eventually.TrueAsync(() => h.HostLifetime.StopCalls == 1, "StopApplication after the second signal");

        Assert.Equal(DelayEnd.Signal, Timeline(h).DelayEnd);
        Assert.Equal(TimeSpan.FromSeconds(2), Timeline(h).DelayEndedAfter);
    }

    [Fact]
    public async Task Timeline_IsOneLogLineAtTheEnd_WithTheTrafficAfterLeaving_AndItsMetrics()
    {
        using var h = await ReadyAsync();
        using var metrics = new Recorder(h.Services);
        Send(h, Balancer, TimeSpan.FromSeconds(2));

        h.Coordinator.OnSignal(PosixSignal.SIGTERM);
        Send(h, Balancer, TimeSpan.FromMilliseconds(1500));
        Send(h, Other, TimeSpan.FromMilliseconds(30), afterLeaving: true);
        await AdvanceUntilEndedAsync(h);
        await Eventually.TrueAsync(() => h.HostLifetime.StopCalls == 1, "StopApplication after the delay");
        await Eventually.DoneAsync(h.Coordinator.OnHostStoppingAsync(CancellationToken.None), "the drain starts");
        h.Time.Advance(TimeSpan.FromMilliseconds(250));
        h.Coordinator.OnHostStopped();
        h.Coordinator.OnHostStopped();

        var line = Assert.Single(h.Logs.Lines, l => l.Contains("[82]", StringComparison.Ordinal));
        Assert.Contains("Shutdown timeline (SIGTERM)", line, StringComparison.Ordinal);
        Assert.Contains("153 requests arrived after it, the last 1520 ms after it", line, StringComparison.Ordinal);
        Assert.Contains("delay Maximum at +10000 ms", line, StringComparison.Ordinal);
        // The drain starts when the delay has ended (the clock moves in steps of 100 ms here) and ends 250 ms later.
        var drain = System.Text.RegularExpressions.Regex.Match(line, @"drain from \+(\d+) to \+(\d+) ms");
        Assert.True(drain.Success, line);
        Assert.InRange(long.Parse(drain.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 10000, 10100);
        Assert.Equal(250, long.Parse(drain.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) - long.Parse(drain.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("10.0.0.1 150 requests, last at +1490 ms; 10.0.0.2 3 requests, last at +1520 ms", line, StringComparison.Ordinal);

        Assert.Equal([("maximum", 10.0)], metrics.Delays);
        Assert.Equal(153, metrics.RequestsAfterLeaving);
        Assert.Equal([1.52], metrics.LastRequests);
    }

    [Fact]
    public async Task Timeline_WithTheFixedDelay_StillCountsTheRequestsAfterLeaving()
    {
        using var h = await ReadyAsync(enabled: false);
        h.Coordinator.OnSignal(PosixSignal.SIGTERM);
        Send(h, Balancer, TimeSpan.FromMilliseconds(500), afterLeaving: true);
        await AdvanceUntilEndedAsync(h);
        await Eventually.TrueAsync(() => h.HostLifetime.StopCalls == 1, "StopApplication after the delay");
        await Eventually.DoneAsync(h.Coordinator.OnHostStoppingAsync(CancellationToken.None), "the drain starts");
        h.Coordinator.OnHostStopped();

        var line = Assert.Single(h.Logs.Lines, l => l.Contains("[82]", StringComparison.Ordinal));
        Assert.Contains("50 requests arrived after it, the last 490 ms after it; delay Elapsed at +10000 ms", line, StringComparison.Ordinal);
    }

    private static Action<GracefulLifecycleOptions> Configure(bool enabled, Action<GracefulLifecycleOptions>? configure = null) => o =>
    {
        o.ShutdownDelay = Maximum;
        o.TerminationGracePeriod = TimeSpan.FromSeconds(60);
        o.AdaptiveDelay.Enabled = enabled;
        o.AdaptiveDelay.MinimumDelay = TimeSpan.FromSeconds(1);
        o.AdaptiveDelay.TrafficWindow = TimeSpan.FromSeconds(2);
        configure?.Invoke(o);
    };

    private static async Task<LifecycleTestServices> ReadyAsync(bool enabled = true, Action<GracefulLifecycleOptions>? configure = null)
    {
        var h = LifecycleTestServices.Build(options: Configure(enabled, configure));
        await h.Coordinator.RunStartupAsync(CancellationToken.None);
        Assert.Equal(LifecyclePhase.Ready, h.State.Phase);
        return h;
    }

    /// <summary>The balancer sending for 2 s and <see cref="Other"/> once.</summary>
    private static void SendingWithARareSender(LifecycleTestServices h)
    {
        Send(h, Balancer, TimeSpan.FromSeconds(2));
        Traffic(h).Record(Other, "/", afterLeaving: false);
    }

    /// <summary>A registry's chain in seconds, with a 0.5 s margin: only the registry term is a registry-side part.</summary>
    private static PropagationDelay Chain(double registry, double refresh, double loadBalancer) => new(
    [
        new PropagationTerm(PropagationStage.Registry, TimeSpan.FromSeconds(registry), "Test:RegistryCache"),
        new PropagationTerm(PropagationStage.ConsumerRefresh, TimeSpan.FromSeconds(refresh), "Test:ConsumerRefresh"),
        new PropagationTerm(PropagationStage.LoadBalancerCache, TimeSpan.FromSeconds(loadBalancer), "Test:LoadBalancerCacheTtl"),
        new PropagationTerm(PropagationStage.Margin, TimeSpan.FromSeconds(0.5), "Test:Margin"),
    ]);

    /// <summary>Started with one registry of that chain (visible 3 s after registering, in fake time), and ready.</summary>
    private static async Task<LifecycleTestServices> RegisteredAsync(PropagationDelay chain, TimeSpan? grace = null)
    {
        var registry = new RecordingRegistry { Propagation = chain };
        var h = LifecycleTestServices.Build(
            options: Configure(enabled: true, o => o.TerminationGracePeriod = grace ?? o.TerminationGracePeriod),
            configure: b => b.Services.AddSingleton<IServiceRegistry>(registry));
        var startup = h.Coordinator.RunStartupAsync(CancellationToken.None);
        await h.Time.AdvanceUntilAsync(() => startup.IsCompleted, "registered and visible");
        Assert.Equal(LifecyclePhase.Ready, h.State.Phase);
        return h;
    }

    private static TrafficMonitor Traffic(LifecycleTestServices h) => h.Services.GetRequiredService<TrafficMonitor>();

    private static ShutdownTimeline Timeline(LifecycleTestServices h) => h.Services.GetRequiredService<ShutdownTimeline>();

    /// <summary>One request from <paramref name="peer"/> every <paramref name="every"/> (10 ms by default), the clock moving between them.</summary>
    private static void Send(LifecycleTestServices h, IPAddress peer, TimeSpan duration, TimeSpan? every = null, string path = "/", bool? afterLeaving = null)
    {
        var step = every ?? Every;
        for (var elapsed = TimeSpan.Zero; elapsed < duration; elapsed += step)
        {
            // As the middleware does: after leaving, every request counts for the timeline.
            Traffic(h).Record(peer, path, afterLeaving ?? h.State.Phase >= LifecyclePhase.Leaving);
            h.Time.Advance(step);
        }
    }

    /// <summary>The balancer's traffic, with a readiness check of its own every second, as HAProxy's health check.</summary>
    private static void SendCheckingReadiness(LifecycleTestServices h, TimeSpan duration)
    {
        for (var sent = TimeSpan.Zero; sent < duration; sent += TimeSpan.FromSeconds(1))
        {
            Check(h);
            Send(h, Balancer, TimeSpan.FromSeconds(1));
        }
    }

    private static void Check(LifecycleTestServices h) =>
        Traffic(h).Record(Balancer, "/ifready", afterLeaving: h.State.Phase >= LifecyclePhase.Leaving);

    /// <summary>
    /// What the log says when the balancer's next failed check, with no request since, ends the delay (after the pause
    /// of <see cref="PauseThenCheck"/>).
    /// </summary>
    private static (string Id, string Text) EndedByTheNextCheck => ("[81]", "then checked readiness with no request since");

    /// <summary>A pause of 1 s that does not end the delay, then the balancer's next failed check, with no request since, that does.</summary>
    private static void PauseThenCheck(LifecycleTestServices h)
    {
        Pause(h, TimeSpan.FromSeconds(1));
        Assert.Null(Timeline(h).DelayEndedAfter);
        Check(h);
    }

    /// <summary>Moves the clock in steps of 10 ms with nothing sent, so that the delay looks at the peers as it would.</summary>
    private static void Pause(LifecycleTestServices h, TimeSpan duration)
    {
        for (var elapsed = TimeSpan.Zero; elapsed < duration; elapsed += Every)
        {
            h.Time.Advance(Every);
        }
    }

    private static Task AdvanceUntilEndedAsync(LifecycleTestServices h) =>
        h.Time.AdvanceUntilAsync(() => Timeline(h).DelayEndedAfter is not null, "the delay ends", TimeSpan.FromMilliseconds(100));

    /// <summary>
    /// One row of <see cref="AdaptiveDelay_InScenario_EndsAsTheRuleSays"/>: the options, the traffic before and after
    /// leaving, and how and when the delay must end. Named so a failing row reads as the rule it breaks.
    /// </summary>
    private sealed record DelayScenario(string Name, DelayEnd End)
    {
        public Action<GracefulLifecycleOptions>? Configure { get; init; }

        public Action<LifecycleTestServices>? BeforeLeaving { get; init; }

        public Action<LifecycleTestServices>? AfterLeaving { get; init; }

        /// <summary>Gets the delay's exact length from leaving, when the row fixes one.</summary>
        public TimeSpan? EndedAfter { get; init; }

        /// <summary>Gets the range the delay's length from leaving must fall in, when the row gives one.</summary>
        public (TimeSpan From, TimeSpan To)? EndedWithin { get; init; }

        /// <summary>Gets the log lines that must be written: an event id and a fragment of the same line.</summary>
        public (string Id, string Text)[] Logged { get; init; } = [];

        /// <summary>Gets any further check of the row, run last.</summary>
        public Action<LifecycleTestServices>? Also { get; init; }

        public override string ToString() => Name;
    }

    /// <summary>Collects the timeline's instruments from the harness's meter.</summary>
    private sealed class Recorder : IDisposable
    {
        private readonly MeterListener _listener = new();

        public Recorder(IServiceProvider services)
        {
            var factory = services.GetRequiredService<IMeterFactory>();
            _ = services.GetRequiredService<LifecycleMetrics>();
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == LifecycleMetrics.MeterName && instrument.Meter.Scope == factory)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
            {
                lock (Delays)
                {
                    if (instrument.Name == "gracefullifecycle.shutdown_delay.duration")
                    {
                        Delays.Add(((string)tags[0].Value!, value));
                    }
                    else if (instrument.Name == "gracefullifecycle.shutdown.last_request_after_leaving")
                    {
                        LastRequests.Add(value);
                    }
                }
            });
            _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
            {
                if (instrument.Name == "gracefullifecycle.shutdown.requests_after_leaving")
                {
                    Interlocked.Add(ref _requests, value);
                }
            });
            _listener.Start();
        }

        private long _requests;

        public List<(string, double)> Delays { get; } = [];

        public List<double> LastRequests { get; } = [];

        public long RequestsAfterLeaving => Interlocked.Read(ref _requests);

        public void Dispose() => _listener.Dispose();
    }
}
