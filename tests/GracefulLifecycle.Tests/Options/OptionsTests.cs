using GracefulLifecycle.Lifecycle;
using GracefulLifecycle.Shutdown;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.Tests.Infrastructure;
using GracefulLifecycle.Validation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Tests.Options;

public sealed class OptionsTests
{
    [Fact]
    public void Defaults_AreValid_AndFitTheKubernetesDefaultGracePeriod()
    {
        var options = new GracefulLifecycleOptions();

        Assert.True(new GracefulLifecycleOptionsValidator().Validate(null, options).Succeeded);
        Assert.Equal(TimeSpan.FromSeconds(5), options.ShutdownDelay);
        Assert.Equal(TimeSpan.FromSeconds(20), options.DrainTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), options.TerminationGracePeriod);
        Assert.True(new ShutdownPlan(options, []).Total <= options.TerminationGracePeriod);
    }

    [Theory]
    [InlineData("ShutdownDelay", "-00:00:01", "GracefulLifecycle:ShutdownDelay must be at least")]
    [InlineData("DrainTimeout", "00:00:00", "GracefulLifecycle:DrainTimeout must be greater than zero")]
    [InlineData("TerminationGracePeriod", "00:00:00", "GracefulLifecycle:TerminationGracePeriod must be greater than zero")]
    [InlineData("ShutdownMargin", "-00:00:01", "GracefulLifecycle:ShutdownMargin must be at least")]
    [InlineData("PreloadTimeout", "00:00:00", "GracefulLifecycle:PreloadTimeout must be greater than zero")]
    [InlineData("WebSocketCloseDelay", "-00:00:01", "GracefulLifecycle:WebSocketCloseDelay must be at least")]
    [InlineData("WebSocketCloseDelay", "00:00:20", "GracefulLifecycle:WebSocketCloseDelay (00:00:20) must be less than GracefulLifecycle:DrainTimeout (00:00:20)")]
    [InlineData("ReadinessPath", "ifready", "GracefulLifecycle:ReadinessPath must start with '/'")]
    [InlineData("PreStopPath", "/health", "GracefulLifecycle:PreStopPath ('/health') is the same path as GracefulLifecycle:LivenessPath")]
    [InlineData("LivenessTag", " ", "GracefulLifecycle:LivenessTag must not be empty")]
    [InlineData("PreStop:ManagementPort", "70000", "GracefulLifecycle:PreStop:ManagementPort must be a TCP port")]
    [InlineData("PreStop:Token", " ", "GracefulLifecycle:PreStop:Token must not be blank")]
    [InlineData("PreStop:AllowedNetworks:0", "10.0.0.0/33", "GracefulLifecycle:PreStop:AllowedNetworks:0 ('10.0.0.0/33') is not a network")]
    [InlineData("PreStop:WhenNoStopFollows", "7", "GracefulLifecycle:PreStop:WhenNoStopFollows must be Stop or Rejoin (was 7)")]
    public void InvalidOption_FailsWithAMessageNamingIt(string key, string value, string expected)
    {
        var failure = Assert.Throws<OptionsValidationException>(() => Bind((key, value)));

        Assert.Contains(expected, failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ShutdownDelay", "50.00:00:00", "GracefulLifecycle:ShutdownDelay must be at most 49.17:02:47.294")]
    [InlineData("TerminationGracePeriod", "60.00:00:00", "GracefulLifecycle:TerminationGracePeriod must be at most")]
    [InlineData("PreloadTimeout", "50.00:00:00", "GracefulLifecycle:PreloadTimeout must be at most")]
    [InlineData("Registration:RetryMaxDelay", "50.00:00:00", "GracefulLifecycle:Registration:RetryMaxDelay must be at most")]
    [InlineData("LivenessPath", "/health/{id}", "GracefulLifecycle:LivenessPath ('/health/{id}') must be a plain path")]
    [InlineData("ReadinessPath", "/ready/{**rest}", "GracefulLifecycle:ReadinessPath ('/ready/{**rest}') must be a plain path")]
    [InlineData("PreStopPath", "/pre stop", "GracefulLifecycle:PreStopPath ('/pre stop') must be a plain path")]
    [InlineData("PreStopPath", "/prestop?x=1", "GracefulLifecycle:PreStopPath ('/prestop?x=1') must be a plain path")]
    public void AnOptionOutOfRangeOrAPathTemplate_FailsValidationNamingIt(string key, string value, string expected)
    {
        var failure = Assert.Throws<OptionsValidationException>(() => Bind((key, value)));

        Assert.Contains(expected, failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("PreloadTimeout", "30", "GracefulLifecycle:PreloadTimeout ('30') is a bare number, which binds as 30 days: write a duration as hh:mm:ss, such as 00:00:10")]
    [InlineData("ShutdownDelay", "5", "GracefulLifecycle:ShutdownDelay ('5') is a bare number, which binds as 5 days")]
    [InlineData("AdaptiveDelay:MinimumQuietPeriod", "1", "GracefulLifecycle:AdaptiveDelay:MinimumQuietPeriod ('1') is a bare number, which binds as 1 day:")]
    [InlineData("Registration:StartupTimeout", " 10 ", "GracefulLifecycle:Registration:StartupTimeout (' 10 ') is a bare number")]
    [InlineData("PreStop:Sleep", "0", "GracefulLifecycle:PreStop:Sleep ('0') is a bare number")]
    public void ADurationWrittenAsABareNumber_FailsNamingTheKeyAndTheFix(string key, string value, string expected)
    {
        var failure = Assert.Throws<OptionsValidationException>(() => Bind((key, value)));

        Assert.Contains(expected, failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00:00:30")]
    [InlineData("1.00:00:00")]
    [InlineData("00:00:00.500")]
    public void ADurationWithAColon_Binds(string value)
    {
        Assert.Equal(TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture), Bind(("PreloadTimeout", value)).PreloadTimeout);
    }

    [Theory]
    [InlineData("ReadinessPath", "/health/", "GracefulLifecycle:ReadinessPath ('/health/') is the same path as GracefulLifecycle:LivenessPath ('/health'): routing ignores case and a trailing slash")]
    [InlineData("PreStopPath", "/ifready/", "GracefulLifecycle:PreStopPath ('/ifready/') is the same path as GracefulLifecycle:ReadinessPath ('/ifready')")]
    [InlineData("PreStopPath", "/IfReady", "GracefulLifecycle:PreStopPath ('/IfReady') is the same path as GracefulLifecycle:ReadinessPath ('/ifready')")]
    public void PathsThatDifferOnlyByCaseOrATrailingSlash_FailNamingBoth(string key, string value, string expected)
    {
        var failure = Assert.Throws<OptionsValidationException>(() => Bind((key, value)));

        Assert.Contains(expected, failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("PreStop:Token", "my secret", "GracefulLifecycle:PreStop:Token contains a space, a control character or a character outside ASCII")]
    [InlineData("PreStop:Token", " secret", "GracefulLifecycle:PreStop:Token contains a space")]
    [InlineData("PreStop:Token", "sécret", "GracefulLifecycle:PreStop:Token contains a space")]
    [InlineData("PreStop:TokenHeaderName", "X PreStop Token", "GracefulLifecycle:PreStop:TokenHeaderName ('X PreStop Token') is not a valid HTTP header name")]
    [InlineData("PreStop:TokenHeaderName", "X-PreStop-Token:", "GracefulLifecycle:PreStop:TokenHeaderName ('X-PreStop-Token:') is not a valid HTTP header name")]
    public void ATokenOrHeaderNameNoCallerCouldSend_FailsNamingTheKey(string key, string value, string expected)
    {
        var failure = Assert.Throws<OptionsValidationException>(() => Bind((key, value)));

        Assert.Contains(expected, failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DurationsThatWouldOverflowTheBudget_FailValidationNamingTheOptions_InsteadOfThrowingOverflowException()
    {
        var options = new GracefulLifecycleOptions { ShutdownDelay = TimeSpan.MaxValue, DrainTimeout = TimeSpan.MaxValue };

        var result = new GracefulLifecycleOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("GracefulLifecycle:ShutdownDelay must be at most", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("GracefulLifecycle:DrainTimeout must be at most", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void ABudgetLongerThanTheGracePeriod_FailsNamingEveryOptionInvolved()
    {
        var failure = Assert.Throws<OptionsValidationException>(() =>
            Bind(("ShutdownDelay", "00:00:15"), ("DrainTimeout", "00:00:15")));

        Assert.Contains("GracefulLifecycle:ShutdownDelay (00:00:15)", failure.Message, StringComparison.Ordinal);
        Assert.Contains("GracefulLifecycle:DrainTimeout (00:00:15)", failure.Message, StringComparison.Ordinal);
        Assert.Contains("GracefulLifecycle:ShutdownMargin (00:00:02)", failure.Message, StringComparison.Ordinal);
        Assert.Contains("exceeds GracefulLifecycle:TerminationGracePeriod (00:00:30)", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Configuration_OverridesValuesSetInCode()
    {
        var options = Bind(configure: o => o.ShutdownDelay = TimeSpan.FromSeconds(10), settings: ("ShutdownDelay", "00:00:07"));

        Assert.Equal(TimeSpan.FromSeconds(7), options.ShutdownDelay);
    }

    [Fact]
    public void CodeValues_ApplyWhereConfigurationIsSilent()
    {
        var options = Bind(configure: o => o.DrainTimeout = TimeSpan.FromSeconds(12), settings: ("ShutdownDelay", "00:00:07"));

        Assert.Equal(TimeSpan.FromSeconds(12), options.DrainTimeout);
    }

    [Fact]
    public void AllowedNetworks_FromConfiguration_ReplaceTheOnesSetInCode()
    {
        var options = Bind(configure: o => o.PreStop.AllowedNetworks.Add("10.0.0.0/8"), settings: ("PreStop:AllowedNetworks:0", "192.168.0.0/16"));

        Assert.Equal(["192.168.0.0/16"], options.PreStop.AllowedNetworks);
    }

    [Fact]
    public void AllowedNetworks_SetInCode_StayWhenConfigurationIsSilent()
    {
        var options = Bind(configure: o => o.PreStop.AllowedNetworks.Add("10.0.0.0/8"), settings: ("ShutdownDelay", "00:00:03"));

        Assert.Equal(["10.0.0.0/8"], options.PreStop.AllowedNetworks);
    }

    [Fact]
    public void HostShutdownTimeout_ShorterThanTheBudget_IsRaisedToTheWholeBudget()
    {
        var services = Services(null, ("ShutdownDelay", "00:00:10"), ("DrainTimeout", "00:00:25"), ("ShutdownMargin", "00:00:03"), ("TerminationGracePeriod", "00:01:00"));
        using var provider = services.BuildServiceProvider();

        // 10 + 25 + 3 = 38 s, above the host's 30 s default.
        Assert.Equal(TimeSpan.FromSeconds(38), provider.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
        Assert.True(provider.GetRequiredService<ShutdownPlan>().Host.RaisedByLibrary);
    }

    [Fact]
    public void HostShutdownTimeout_SetShorterByTheApplication_IsRaisedToTheWholeBudget()
    {
        var services = Services(null, ("ShutdownDelay", "00:00:04"), ("DrainTimeout", "00:00:09"), ("ShutdownMargin", "00:00:01"));
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        using var provider = services.BuildServiceProvider();

        Assert.Equal(TimeSpan.FromSeconds(14), provider.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
    }

    [Fact]
    public void HostShutdownTimeout_SetLongerByTheApplication_IsNeverLowered()
    {
        var services = Services(null, ("ShutdownDelay", "00:00:04"), ("DrainTimeout", "00:00:09"), ("ShutdownMargin", "00:00:01"));
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMinutes(2));
        using var provider = services.BuildServiceProvider();

        Assert.Equal(TimeSpan.FromMinutes(2), provider.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
        Assert.False(provider.GetRequiredService<ShutdownPlan>().Host.RaisedByLibrary);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void HostShutdownTimeout_ThePlanResolvedFirstOrLast_HoldsTheValueTheApplicationConfiguredAndTheOneSet(bool planFirst)
    {
        var services = Services(null, ("ShutdownDelay", "00:00:04"), ("DrainTimeout", "00:00:09"), ("ShutdownMargin", "00:00:01"));
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        using var provider = services.BuildServiceProvider();

        var plan = planFirst ? provider.GetRequiredService<ShutdownPlan>() : null;
        var host = provider.GetRequiredService<IOptions<HostOptions>>().Value;
        plan ??= provider.GetRequiredService<ShutdownPlan>();

        // Computed once from the application's 5 s, not from the 14 s the library set: the plan is not rewritten.
        Assert.Equal(TimeSpan.FromSeconds(5), plan.Host.Configured);
        Assert.True(plan.Host.RaisedByLibrary);
        Assert.Equal(TimeSpan.FromSeconds(14), plan.Host.AtStartup);
        Assert.Equal(TimeSpan.FromSeconds(10), plan.Host.AfterDelay);
        Assert.Equal(plan.Host.AtStartup, host.ShutdownTimeout);
    }

    [Fact]
    public void HostShutdownTimeout_SetByTheApplicationAboveTheBudget_StaysForAStopAfterTheDelayToo()
    {
        var services = Services(null, ("ShutdownDelay", "00:00:04"), ("DrainTimeout", "00:00:09"), ("ShutdownMargin", "00:00:01"));
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMinutes(2));
        using var provider = services.BuildServiceProvider();

        var plan = provider.GetRequiredService<ShutdownPlan>();

        Assert.Equal(TimeSpan.FromMinutes(2), plan.Host.AtStartup);
        Assert.Equal(TimeSpan.FromMinutes(2), plan.Host.AfterDelay);
    }

    [Fact]
    public void HostShutdownTimeout_TheHostDefaultAboveTheBudget_IsKept()
    {
        using var provider = Services(null, ("ShutdownDelay", "00:00:04"), ("DrainTimeout", "00:00:09"), ("ShutdownMargin", "00:00:01"))
            .BuildServiceProvider();

        Assert.Equal(new HostOptions().ShutdownTimeout, provider.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
    }

    [Fact]
    public void AddGracefulLifecycle_CalledTwice_AddsEachServiceOnce()
    {
        var services = new ServiceCollection();
        services.AddGracefulLifecycle();
        services.AddGracefulLifecycle(o => o.ShutdownDelay = TimeSpan.FromSeconds(3));

        Assert.Single(services, d => d.ImplementationType == typeof(LifecycleHostedService));
        Assert.Single(services, d => d.ServiceType == typeof(LifecycleCoordinator));
        Assert.Single(services, d => d.ServiceType == typeof(IStartupFilter));
        Assert.Single(services, d => d.ServiceType == typeof(IGracefulLifecycle));
    }

    [Fact]
    public async Task InvalidOptions_FailTheApplicationAtStartup()
    {
        await using var app = new SampleAppFactory().With("GracefulLifecycle:DrainTimeout", "00:01:00");

        var failure = Assert.ThrowsAny<Exception>(() => app.CreateClient());

        Assert.Contains("GracefulLifecycle:DrainTimeout (00:01:00)", failure.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void MapGracefulLifecycle_WithoutAddGracefulLifecycle_ThrowsNamingTheMissingCall()
    {
        var builder = WebApplication.CreateSlimBuilder();
        using var app = builder.Build();

        var failure = Assert.Throws<InvalidOperationException>(() => app.MapGracefulLifecycle());

        Assert.Contains("IServiceCollection.AddGracefulLifecycle()", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddPreload_WithANonPositiveTimeout_Throws()
    {
        var builder = new ServiceCollection().AddGracefulLifecycle();

        var failure = Assert.Throws<ArgumentOutOfRangeException>(() => builder.AddPreload("cache", (_, _) => Task.CompletedTask, TimeSpan.Zero));

        Assert.Contains("'cache'", failure.Message, StringComparison.Ordinal);
    }

    private static GracefulLifecycleOptions Bind(params (string Key, string Value)[] settings) => Bind(null, settings);

    private static GracefulLifecycleOptions Bind(Action<GracefulLifecycleOptions>? configure, params (string Key, string Value)[] settings)
    {
        using var provider = Services(configure, settings).BuildServiceProvider();
        return provider.GetRequiredService<IOptions<GracefulLifecycleOptions>>().Value;
    }

    private static ServiceCollection Services(Action<GracefulLifecycleOptions>? configure, params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create("GracefulLifecycle:" + s.Key, (string?)s.Value)))
            .Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddGracefulLifecycle(configure);
        return services;
    }
}
