using GracefulLifecycle.Shutdown;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.Tests.Infrastructure;
using GracefulLifecycle.Validation;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.Tests.Registration;

public sealed class RegistrationLifecycleTests
{
    private static CoordinatorHarness Harness(RecordingRegistry registry, Action<GracefulLifecycleOptions>? configure = null, Action<IGracefulLifecycleBuilder>? build = null) =>
        new(o =>
        {
            o.ShutdownDelay = TimeSpan.FromSeconds(2);
            o.DrainTimeout = TimeSpan.FromSeconds(10);
            configure?.Invoke(o);
        }, b =>
        {
            b.Services.AddSingleton<IServiceRegistry>(registry);
            build?.Invoke(b);
        });

    private static async Task<(CoordinatorHarness Harness, Task Startup)> ReadyAsync(RecordingRegistry registry, Action<GracefulLifecycleOptions>? configure = null)
    {
        var h = Harness(registry, configure);
        var startup = h.Coordinator.RunStartupAsync(CancellationToken.None);
        await h.Time.AdvanceUntilAsync(() => startup.IsCompleted, "registered and visible");
        Assert.Equal(LifecyclePhase.Ready, h.Coordinator.Phase);
        return (h, startup);
    }

    [Fact]
    public async Task Registers_OnlyAfterPreload_AndIsReadyOnlyOnceTheVisibilityDelayHasPassed()
    {
        var registry = new RecordingRegistry();
        var preload = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var h = Harness(registry, build: b => b.AddPreload("cache", (_, _) => preload.Task));

        var startup = h.Coordinator.RunStartupAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => h.Time.PendingTimers == 1, "preload running");
        Assert.Empty(registry.Calls);

        preload.SetResult();
        await Eventually.TrueAsync(() => registry.Count("register") == 1, "registration");
        Assert.Equal(LifecyclePhase.Registering, h.Coordinator.Phase);
        await Eventually.TrueAsync(() => h.Time.HasTimerDueIn(registry.VisibilityDelay), "visibility wait armed");

        h.Time.Advance(registry.VisibilityDelay - TimeSpan.FromMilliseconds(1));
        Assert.Equal(LifecyclePhase.Registering, h.Coordinator.Phase);
        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        await Eventually.DoneAsync(startup, "startup");

        Assert.Equal([LifecyclePhase.Preloading, LifecyclePhase.Registering, LifecyclePhase.Ready], h.Phases);
    }

    [Fact]
    public async Task WhileReady_Renews_AndRegistersAgainWhenTheRegistrationIsLost()
    {
        var registry = new RecordingRegistry();
        var (h, _) = await ReadyAsync(registry);
        using var _h = h;

        // The first renewal was armed at registration, before the visibility wait moved the clock.
        await h.Time.AdvanceUntilAsync(() => registry.Count("renewed") == 1, "first renewal");
        await Eventually.TrueAsync(() => h.Time.HasTimerDueIn(registry.RenewalInterval), "the next renewal armed");
        registry.RenewResult = false;
        h.Time.Advance(registry.RenewalInterval);
        await Eventually.TrueAsync(() => registry.Count("register") == 2, "registered again after a lost registration");

        Assert.Equal(["register", "renew", "renewed", "renew", "lost", "register"], registry.Calls);
        Assert.Equal(LifecyclePhase.Ready, h.Coordinator.Phase);
    }

    [Fact]
    public async Task Leaving_DeregistersFirst_ThenServesThePropagationDelay_AndSendsNothingAfterwards()
    {
        var registry = new RecordingRegistry { PropagationDelay = TimeSpan.FromSeconds(8) };
        var (h, _) = await ReadyAsync(registry);
        using var _h = h;

        var leave = h.Coordinator.LeaveAsync();
        await Eventually.TrueAsync(() => registry.Count("deregister") == 1, "deregistration");
        Assert.Equal(LifecyclePhase.Leaving, h.Coordinator.Phase);
        await Eventually.TrueAsync(() => h.Time.HasTimerDueIn(TimeSpan.FromSeconds(8)), "the delay timer");

        // The configured 2 s delay was raised to the registry's 8 s propagation delay.
        h.Time.Advance(TimeSpan.FromSeconds(8) - TimeSpan.FromMilliseconds(1));
        Assert.False(leave.IsCompleted);
        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        await Eventually.DoneAsync(leave, "leave");

        for (var i = 0; i < 5; i++)
        {
            h.Time.Advance(registry.RenewalInterval);
        }

        Assert.Equal("deregister", registry.Calls[^1]);
        Assert.Equal(1, registry.Count("deregister"));
    }

    [Fact]
    public async Task Leaving_WaitsForARenewalInFlight_DeregistersAfterIt_AndDoesNotRegisterAgainWhenItReportsLost()
    {
        var registry = new RecordingRegistry { RenewGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), RenewResult = false };
        var (h, _) = await ReadyAsync(registry);
        using var _h = h;
        h.Time.Advance(registry.RenewalInterval);
        await Eventually.TrueAsync(() => registry.Count("renew") == 1, "a renewal in flight");

        var leave = h.Coordinator.LeaveAsync();
        await Eventually.TrueAsync(() => h.Time.PendingTimers >= 1, "deregistration deadline armed");
        Assert.Equal(0, registry.Count("deregister"));

        registry.RenewGate.SetResult();
        await Eventually.TrueAsync(() => registry.Count("deregister") == 1, "deregistration after the renewal landed");
        await h.Time.AdvanceUntilAsync(() => leave.IsCompleted, "leave");

        Assert.Equal(["register", "renew", "lost", "deregister"], registry.Calls);
    }

    [Fact]
    public async Task Leaving_WithARenewalThatHangs_CancelsItAfterTheInFlightBound_AndStillSendsTheDeregistration()
    {
        // The review's case: an adapter whose request timeout (5 s) is longer than the deregistration budget (2 s).
        var registry = new RecordingRegistry { RenewGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var (h, _) = await ReadyAsync(registry, o => o.Registration.DeregistrationTimeout = TimeSpan.FromSeconds(2));
        using var _h = h;
        h.Time.Advance(registry.RenewalInterval);
        await Eventually.TrueAsync(() => registry.Count("renew") == 1, "a renewal in flight");

        var started = h.Time.GetTimestamp();
        var leave = h.Coordinator.LeaveAsync();
        await h.Time.AdvanceUntilAsync(() => registry.Count("deregister") == 1, "the deregistration sent", TimeSpan.FromMilliseconds(100));

        // Sent once the 500 ms in-flight bound has passed, well within the 2 s budget.
        Assert.InRange(h.Time.GetElapsedTime(started), TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(700));
        Assert.Equal(["register", "renew", "deregister"], registry.Calls);
        await h.Time.AdvanceUntilAsync(() => leave.IsCompleted, "leave");
    }

    [Fact]
    public async Task Leaving_TellsTheRegistryTheTimeItsDeregistrationIsGiven_WithTheCall()
    {
        var registry = new RecordingRegistry();
        var (h, _) = await ReadyAsync(registry, o =>
        {
            o.Registration.DeregistrationTimeout = TimeSpan.FromSeconds(3);
            o.Registration.InFlightCallTimeout = TimeSpan.FromMilliseconds(700);
        });
        using var _h = h;

        var leave = h.Coordinator.LeaveAsync();
        await Eventually.TrueAsync(() => registry.Count("deregister") == 1, "the deregistration sent");

        // The deregistration timeout less the wait for a call in flight: the figure a registry with several servers shares.
        Assert.Equal(TimeSpan.FromMilliseconds(2300), registry.Deregistration?.Budget);
        await h.Time.AdvanceUntilAsync(() => leave.IsCompleted, "leave");
    }

    [Fact]
    public void AnInFlightBoundThatLeavesNoTimeForTheDeregistration_FailsValidation_NamingBoth()
    {
        var options = new GracefulLifecycleOptions();
        options.Registration.InFlightCallTimeout = TimeSpan.FromSeconds(2);
        var result = new GracefulLifecycleOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("GracefulLifecycle:Registration:InFlightCallTimeout (00:00:02) must be shorter than GracefulLifecycle:Registration:DeregistrationTimeout (00:00:02)", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AMisconfiguredRegistry_FailsFast_StopsWithExitCode1_AndIsNotRetried(bool required)
    {
        var registry = new RecordingRegistry { RegisterFailure = new InvalidOperationException("The server does not listen on an HTTP port yet; set GracefulLifecycle:Etcd:Port.") };
        using var h = Harness(registry, o => o.Registration.Required = required);

        var startup = h.Coordinator.RunStartupAsync(CancellationToken.None);
        await Eventually.DoneAsync(startup, "startup ends at once");
        h.Time.Advance(TimeSpan.FromMinutes(5));

        Assert.Equal([1], h.ExitCodes);
        Assert.Equal(1, h.HostLifetime.StopCalls);
        Assert.True(h.Coordinator.Ready.IsFaulted);
        Assert.Equal(1, registry.Count("register"));
        Assert.DoesNotContain(LifecyclePhase.Ready, h.Phases);
    }

    [Fact]
    public void InstanceAddress_OnAnIPv6OnlyHost_RegistersAReachableIPv6Address()
    {
        var chosen = GracefulLifecycle.Hosting.InstanceAddress.Choose(
            [System.Net.IPAddress.Parse("fe80::1"), System.Net.IPAddress.Parse("::1"), System.Net.IPAddress.Parse("2001:db8::7")]);

        Assert.Equal("2001:db8::7", chosen.ToString());
        Assert.Equal("10.0.0.5", GracefulLifecycle.Hosting.InstanceAddress.Choose([System.Net.IPAddress.Parse("2001:db8::7"), System.Net.IPAddress.Parse("10.0.0.5")]).ToString());
    }

    [Fact]
    public void InstanceAddress_WithSeveralUrls_RegistersTheFirstPortThatIsNotTheManagementPort()
    {
        string[] addresses = ["http://[::]:8081", "http://[::]:8080"];

        Assert.Equal(8080, GracefulLifecycle.Hosting.InstanceAddress.ChoosePort(addresses, "http", managementPort: 8081));
        Assert.Equal(8081, GracefulLifecycle.Hosting.InstanceAddress.ChoosePort(addresses, "http", managementPort: null));
    }

    [Fact]
    public async Task UnreachableRegistry_IsRetriedWithBackoff_AndDoesNotBlockReadinessPastTheStartupTimeout()
    {
        var registry = new RecordingRegistry();
        registry.FailNextRegistrations(100);
        using var h = Harness(registry, o => o.Registration.StartupTimeout = TimeSpan.FromSeconds(10));

        var startup = h.Coordinator.RunStartupAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => registry.Count("register") == 1, "first attempt");

        // Retries after 1, 2, 4 s: the fourth attempt is at 7 s.
        foreach (var (backoff, attempts) in new[] { (1, 2), (2, 3), (4, 4) })
        {
            await Eventually.TrueAsync(() => h.Time.HasTimerDueIn(TimeSpan.FromSeconds(backoff)), $"a retry armed {backoff} s ahead");
            h.Time.Advance(TimeSpan.FromSeconds(backoff));
            await Eventually.TrueAsync(() => registry.Count("register") == attempts, $"attempt {attempts}");
        }

        Assert.Equal(LifecyclePhase.Registering, h.Coordinator.Phase);
        await Eventually.TrueAsync(() => h.Time.HasTimerDueIn(TimeSpan.FromSeconds(8)), "the next retry armed 8 s ahead");
        h.Time.Advance(TimeSpan.FromSeconds(3));
        await Eventually.DoneAsync(startup, "ready after the startup timeout");
        Assert.Equal(LifecyclePhase.Ready, h.Coordinator.Phase);

        registry.FailNextRegistrations(0);
        h.Time.Advance(TimeSpan.FromSeconds(5));
        await Eventually.TrueAsync(() => registry.Count("register") == 5, "keeps retrying in the background");
    }

    [Fact]
    public async Task UnreachableRegistry_WhenRegistrationIsRequired_KeepsReadinessFailing()
    {
        var registry = new RecordingRegistry();
        registry.FailNextRegistrations(100);
        using var h = Harness(registry, o => o.Registration.Required = true);

        var startup = h.Coordinator.RunStartupAsync(CancellationToken.None);
        await h.Time.AdvanceUntilAsync(() => registry.Count("register") >= 6, "retries", TimeSpan.FromSeconds(1));
        h.Time.Advance(TimeSpan.FromMinutes(2));

        Assert.False(startup.IsCompleted);
        Assert.Equal(LifecyclePhase.Registering, h.Coordinator.Phase);
    }

    [Fact]
    public async Task HangingDeregistration_IsBoundedByItsTimeout()
    {
        var registry = new RecordingRegistry { DeregisterHangs = true };
        var (h, _) = await ReadyAsync(registry, o => o.Registration.DeregistrationTimeout = TimeSpan.FromSeconds(2));
        using var _h = h;

        var leave = h.Coordinator.LeaveAsync();
        await Eventually.TrueAsync(() => registry.Count("deregister") == 1, "deregistration started");

        var started = h.Time.GetTimestamp();
        await h.Time.AdvanceUntilAsync(() => leave.IsCompleted, "leave despite the hang", TimeSpan.FromMilliseconds(100));

        // 2 s of deregistration budget, then the 8 s propagation delay; a step of slack for the polling.
        Assert.True(h.Time.GetElapsedTime(started) <= TimeSpan.FromSeconds(10.2), $"leaving took {h.Time.GetElapsedTime(started)} of fake time");
    }

    [Fact]
    public async Task Leaving_AfterEveryRegistrationFailed_SaysTheDeregistrationIsNotConfirmed_NotThatItDeregistered()
    {
        var registry = new RecordingRegistry();
        registry.FailNextRegistrations(100);
        using var h = Harness(registry);
        _ = h.Coordinator.RunStartupAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => registry.Count("register") == 1, "first attempt");

        var leave = h.Coordinator.LeaveAsync();
        await Eventually.TrueAsync(() => registry.Count("deregister") == 1, "the deregistration, in case an attempt landed");
        await Eventually.TrueAsync(() => h.Logs.Contains("Deregistration from Recording not confirmed"), "the log line");

        Assert.Contains(h.Logs.Lines, l => l.StartsWith("Warning ", StringComparison.Ordinal) && l.Contains("[72] Deregistration from Recording not confirmed", StringComparison.Ordinal));
        Assert.False(h.Logs.Contains("Deregistered from Recording"));
        h.Time.Advance(registry.PropagationDelay);
        await Eventually.DoneAsync(leave, "leave");
    }

    [Fact]
    public async Task Leaving_AfterTheRegistrationWasLostAndNotMadeAgain_SaysTheDeregistrationIsNotConfirmed()
    {
        var registry = new RecordingRegistry();
        var (h, _) = await ReadyAsync(registry);
        using var _h = h;
        registry.RenewResult = false;
        registry.FailNextRegistrations(100);
        await h.Time.AdvanceUntilAsync(() => registry.Count("register") >= 2, "lost, then a failed attempt to register again");

        _ = h.Coordinator.LeaveAsync();
        await Eventually.TrueAsync(() => h.Logs.Contains("Deregistration from Recording not confirmed"), "the log line");
        Assert.False(h.Logs.Contains("Deregistered from Recording"));
    }

    [Fact]
    public async Task Leaving_AfterAnAcceptedRegistration_LogsDeregistered()
    {
        var registry = new RecordingRegistry();
        var (h, _) = await ReadyAsync(registry);
        using var _h = h;

        _ = h.Coordinator.LeaveAsync();
        await Eventually.TrueAsync(() => h.Logs.Contains("Deregistered from Recording"), "the log line");
        Assert.False(h.Logs.Contains("not confirmed"));
    }

    [Fact]
    public async Task LeavingWhileRegistrationStillFails_StopsRetrying_DeregistersAndServesTheDelay()
    {
        var registry = new RecordingRegistry();
        registry.FailNextRegistrations(100);
        using var h = Harness(registry);
        var startup = h.Coordinator.RunStartupAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => registry.Count("register") == 1, "first attempt");

        var leave = h.Coordinator.LeaveAsync();
        await Eventually.DoneAsync(startup, "startup gives up");
        await Eventually.TrueAsync(() => registry.Count("deregister") == 1, "deregistration of a maybe-received registration");
        Assert.False(leave.IsCompleted);
        await Eventually.TrueAsync(() => h.Time.HasTimerDueIn(registry.PropagationDelay), "the delay is served: the registry may have heard of us");
        h.Time.Advance(registry.PropagationDelay);
        await Eventually.DoneAsync(leave, "leave");

        h.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(["register", "deregister"], registry.Calls);
        Assert.DoesNotContain(LifecyclePhase.Ready, h.Phases);
    }

    [Fact]
    public async Task SeveralRegistries_AreAllRegistered_ReadinessWaitsForTheSlowestVisibility_AndAllAreLeftFirst()
    {
        var fast = new RecordingRegistry("fast") { VisibilityDelay = TimeSpan.FromSeconds(1), PropagationDelay = TimeSpan.FromSeconds(3) };
        var slow = new RecordingRegistry("slow") { VisibilityDelay = TimeSpan.FromSeconds(4), PropagationDelay = TimeSpan.FromSeconds(6) };
        using var h = Harness(fast, build: b => b.Services.AddSingleton<IServiceRegistry>(slow));

        var startup = h.Coordinator.RunStartupAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => h.Time.HasTimerDueIn(TimeSpan.FromSeconds(4)), "the visibility wait of the slowest registry");
        Assert.Equal(1, fast.Count("register"));
        Assert.Equal(1, slow.Count("register"));
        h.Time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(LifecyclePhase.Registering, h.Coordinator.Phase);
        h.Time.Advance(TimeSpan.FromSeconds(1));
        await Eventually.DoneAsync(startup, "ready");

        var leave = h.Coordinator.LeaveAsync();
        await Eventually.TrueAsync(() => fast.Count("deregister") == 1 && slow.Count("deregister") == 1, "both left");
        await Eventually.TrueAsync(() => h.Time.HasTimerDueIn(TimeSpan.FromSeconds(6)), "the largest propagation delay");
        h.Time.Advance(TimeSpan.FromSeconds(6));
        await Eventually.DoneAsync(leave, "leave");
    }

    [Fact]
    public void ShutdownPlan_TakesTheLargestPropagationDelay_AndCountsTheDeregistrationTimeout()
    {
        var options = new GracefulLifecycleOptions { ShutdownDelay = TimeSpan.FromSeconds(3) };
        var plan = new ShutdownPlan(options, [new RecordingRegistry("A") { PropagationDelay = TimeSpan.FromSeconds(4) }, new RecordingRegistry("B") { PropagationDelay = TimeSpan.FromSeconds(6) }]);

        Assert.Equal(TimeSpan.FromSeconds(6), plan.ShutdownDelay);
        Assert.Equal("B", plan.DelaySetBy);
        Assert.Equal(TimeSpan.FromSeconds(2 + 6 + 20 + 2), plan.Total);
    }

    [Fact]
    public void ShutdownPlan_LargestPropagationDelayBelowTheConfiguredDelay_IsKnownButRaisesNothing()
    {
        var options = new GracefulLifecycleOptions { ShutdownDelay = TimeSpan.FromSeconds(8) };
        options.Registration.DeregistrationTimeout = TimeSpan.FromSeconds(3);
        options.Registration.InFlightCallTimeout = TimeSpan.FromSeconds(1);
        var registrySide = new PropagationDelay([new PropagationTerm(PropagationStage.Registry, TimeSpan.FromSeconds(5), "A:Cache")]);
        var plan = new ShutdownPlan(
            options,
            [
                new RecordingRegistry("A") { Propagation = registrySide },
                new RecordingRegistry("B") { PropagationDelay = TimeSpan.FromSeconds(6) },
                new RecordingRegistry("C") { PropagationDelay = TimeSpan.FromSeconds(6) },
            ]);

        Assert.Equal(TimeSpan.FromSeconds(8), plan.ShutdownDelay);
        Assert.Null(plan.DelaySetBy);
        Assert.Null(plan.DelaySetByTerms);
        Assert.Equal("B", plan.LargestPropagationDelayOf);
        Assert.Equal((TimeSpan.FromSeconds(5), "A"), plan.RegistrySideFloor);
        Assert.Equal(TimeSpan.FromSeconds(2), plan.DeregistrationCallBudget);
        Assert.Equal(TimeSpan.FromSeconds(3 + 8 + 2), plan.LeaveBound);
        Assert.Equal(TimeSpan.FromSeconds(20 + 2), plan.AfterDelay);
        Assert.Equal(TimeSpan.FromSeconds(1), plan.AbortGrace);
        Assert.Equal(TimeSpan.FromSeconds(30 - 22), plan.PreStopFollowUpWait);
    }

    [Fact]
    public void ABudgetRaisedPastTheGracePeriodByARegistry_FailsNamingTheRegistry()
    {
        var registry = new RecordingRegistry("Eureka")
        {
            Propagation = new(
            [
                new PropagationTerm(PropagationStage.Registry, TimeSpan.FromSeconds(30), "X:ResponseCacheUpdateIntervalMs"),
                new PropagationTerm(PropagationStage.ConsumerRefresh, TimeSpan.FromSeconds(30), "X:RegistryFetchIntervalSeconds"),
                new PropagationTerm(PropagationStage.LoadBalancerCache, TimeSpan.FromSeconds(35), "X:LoadBalancerCacheTtl, set by X:ConsumerProfile SpringCloudLoadBalancer"),
                new PropagationTerm(PropagationStage.Margin, TimeSpan.FromSeconds(1), "X:PropagationMargin"),
            ]),
        };
        var failure = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(
            () => GracefulLifecycle.Shutdown.ShutdownBudget.Plan(new GracefulLifecycleOptions(), [registry]));

        // Each term with its source, the figure the grace period must reach, and the consumer settings to change.
        Assert.Equal(
            "GracefulLifecycle:Registration:DeregistrationTimeout (00:00:02) + the shutdown delay (00:01:36, raised from GracefulLifecycle:ShutdownDelay 00:00:05 " +
            "by the propagation delay of Eureka: registry cache 00:00:30 (X:ResponseCacheUpdateIntervalMs) + consumer refresh 00:00:30 (X:RegistryFetchIntervalSeconds) + " +
            "load-balancer cache 00:00:35 (X:LoadBalancerCacheTtl, set by X:ConsumerProfile SpringCloudLoadBalancer) + margin 00:00:01 (X:PropagationMargin)) + " +
            "GracefulLifecycle:DrainTimeout (00:00:20) + GracefulLifecycle:ShutdownMargin (00:00:02) = 00:02:00 exceeds GracefulLifecycle:TerminationGracePeriod (00:00:30): " +
            "the orchestrator would kill the process before the drain ends. Raise GracefulLifecycle:TerminationGracePeriod to at least 00:02:00 (and " +
            "terminationGracePeriodSeconds with it), or shorten the drain; or, if the consumers of Eureka refresh or cache for less than that, declare them in the " +
            "settings those terms come from: X:RegistryFetchIntervalSeconds; X:LoadBalancerCacheTtl, set by X:ConsumerProfile SpringCloudLoadBalancer.",
            Assert.Single(failure.Failures));
    }

    [Fact]
    public void ABudgetRaisedByARegistry_AfterAPreStopSleep_NamesTheTermsAndTheConsumerSettings()
    {
        var registry = new RecordingRegistry("Consul") { PropagationDelay = TimeSpan.FromSeconds(36) };
        var options = new GracefulLifecycleOptions();
        options.PreStop.Sleep = TimeSpan.FromSeconds(5);

        var failure = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(
            () => GracefulLifecycle.Shutdown.ShutdownBudget.Plan(options, [registry]));

        var message = Assert.Single(failure.Failures);
        Assert.Contains("at least the propagation delay of Consul, 00:00:36: consumer refresh 00:00:36 (Test:Consul:PropagationDelay)", message, StringComparison.Ordinal);
        Assert.EndsWith("declare them in the settings those terms come from: Test:Consul:PropagationDelay.", message, StringComparison.Ordinal);
    }

    [Fact]
    public void PropagationDelay_AddsItsTerms_AndTheRegistrySidePartIsTheRegistryTermsAlone()
    {
        var delay = new PropagationDelay(
        [
            new PropagationTerm(PropagationStage.Registry, TimeSpan.FromSeconds(5), "a"),
            new PropagationTerm(PropagationStage.ConsumerRefresh, TimeSpan.FromSeconds(5), "b"),
            new PropagationTerm(PropagationStage.LoadBalancerCache, TimeSpan.FromSeconds(35), "c"),
            new PropagationTerm(PropagationStage.Margin, TimeSpan.FromSeconds(1), "d"),
        ]);

        Assert.Equal(TimeSpan.FromSeconds(46), delay.Total);
        Assert.Equal(TimeSpan.FromSeconds(5), delay.RegistrySide);
        Assert.Equal("registry cache 00:00:05 (a) + consumer refresh 00:00:05 (b) + load-balancer cache 00:00:35 (c) + margin 00:00:01 (d)", delay.ToString());
        Assert.Equal("none", PropagationDelay.None.ToString());
        Assert.Throws<ArgumentOutOfRangeException>(() => new PropagationTerm(PropagationStage.Margin, TimeSpan.FromSeconds(-1), "e"));
        Assert.Throws<OverflowException>(() => new PropagationDelay(
            [new PropagationTerm(PropagationStage.Registry, TimeSpan.MaxValue, "f"), new PropagationTerm(PropagationStage.Margin, TimeSpan.FromSeconds(1), "g")]));
    }

    [Fact]
    public void ARegistryMayDependOnTheLifecycleOptions_ItsDelayStillRaisesTheShutdownDelay()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddGracefulLifecycle(o =>
        {
            o.ShutdownDelay = TimeSpan.FromSeconds(4);
            o.TerminationGracePeriod = TimeSpan.FromMinutes(1);
        }).AddServiceRegistry<OptionsReadingRegistry>();
        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });

        var plan = provider.GetRequiredService<ShutdownPlan>();

        Assert.Equal(TimeSpan.FromSeconds(4 + 3), plan.ShutdownDelay);
        Assert.Equal(nameof(OptionsReadingRegistry), plan.DelaySetBy);
    }

    [Fact]
    public void ARegistryThatDependsOnTheLifecycleOptions_AndRaisesTheBudgetPastTheGracePeriod_FailsWhenThePlanIsBuilt()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        // 4 s + 20 s drain + 2 s margin fit in 30 s; the registry's 7 s and the 2 s deregistration do not.
        services.AddGracefulLifecycle(o => o.ShutdownDelay = TimeSpan.FromSeconds(4)).AddServiceRegistry<OptionsReadingRegistry>();
        using var provider = services.BuildServiceProvider();

        var failure = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => provider.GetRequiredService<ShutdownPlan>());

        Assert.Contains($"by the propagation delay of {nameof(OptionsReadingRegistry)}", failure.Message, StringComparison.Ordinal);
    }

    /// <summary>A registry whose delay follows the lifecycle's own options: the dependency the old validator forbade.</summary>
    private sealed class OptionsReadingRegistry(Microsoft.Extensions.Options.IOptions<GracefulLifecycleOptions> options) : IServiceRegistry
    {
        public string Name => nameof(OptionsReadingRegistry);

        public TimeSpan VisibilityDelay => TimeSpan.Zero;

        public PropagationDelay PropagationDelay =>
            new([new PropagationTerm(PropagationStage.ConsumerRefresh, options.Value.ShutdownDelay + TimeSpan.FromSeconds(3), "Test:PropagationDelay")]);

        public TimeSpan RenewalInterval => Timeout.InfiniteTimeSpan;

        public Task RegisterAsync(ServiceInstance instance, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<bool> RenewAsync(CancellationToken cancellationToken) => Task.FromResult(true);

        public Task DeregisterAsync(DeregistrationContext context, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
