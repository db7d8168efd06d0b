using GracefulLifecycle.Adaptive;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Tests.Adaptive;

public sealed class AdaptiveDelayOptionsTests
{
    [Fact]
    public void Defaults_AreOff_WithDocumentedValues_AndValid()
    {
        var options = Bind();

        Assert.False(options.AdaptiveDelay.Enabled);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.AdaptiveDelay.MinimumDelay);
        Assert.Equal(10, options.AdaptiveDelay.QuietPeriodFactor);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.AdaptiveDelay.MinimumQuietPeriod);
        Assert.Equal(TimeSpan.FromSeconds(30), options.AdaptiveDelay.TrafficWindow);
        Assert.Equal(1024, options.AdaptiveDelay.MaxPeers);
        Assert.Equal(ReadinessCheckRule.StoppedAtFailedCheck, options.AdaptiveDelay.ReadinessCheck);
        Assert.Empty(options.AdaptiveDelay.ExcludedPaths);
    }

    [Fact]
    public void ConfigurationKeys_BindAsDocumented()
    {
        var options = Bind(
            o => o.AdaptiveDelay.ExcludedPaths.Add("/from-code"),
            ("AdaptiveDelay:Enabled", "true"),
            ("AdaptiveDelay:MinimumDelay", "00:00:02"),
            ("AdaptiveDelay:QuietPeriodFactor", "5"),
            ("AdaptiveDelay:MinimumQuietPeriod", "00:00:00.250"),
            ("AdaptiveDelay:TrafficWindow", "00:01:00"),
            ("AdaptiveDelay:MaxPeers", "16"),
            ("AdaptiveDelay:ReadinessCheck", "checkafterquietperiod"),
            ("AdaptiveDelay:ExcludedPaths:0", "/metrics"));

        Assert.True(options.AdaptiveDelay.Enabled);
        Assert.Equal(TimeSpan.FromSeconds(2), options.AdaptiveDelay.MinimumDelay);
        Assert.Equal(5, options.AdaptiveDelay.QuietPeriodFactor);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.AdaptiveDelay.MinimumQuietPeriod);
        Assert.Equal(TimeSpan.FromMinutes(1), options.AdaptiveDelay.TrafficWindow);
        Assert.Equal(16, options.AdaptiveDelay.MaxPeers);
        Assert.Equal(ReadinessCheckRule.CheckAfterQuietPeriod, options.AdaptiveDelay.ReadinessCheck);

        // A list from configuration replaces the one set in code, as PreStop:AllowedNetworks does.
        Assert.Equal(["/metrics"], options.AdaptiveDelay.ExcludedPaths);
    }

    [Theory]
    [InlineData("AdaptiveDelay:MinimumDelay", "-00:00:01", "GracefulLifecycle:AdaptiveDelay:MinimumDelay must be from 0")]
    [InlineData("AdaptiveDelay:QuietPeriodFactor", "0.5", "GracefulLifecycle:AdaptiveDelay:QuietPeriodFactor must be from 1 to 1000 (was 0.5)")]
    [InlineData("AdaptiveDelay:QuietPeriodFactor", "NaN", "GracefulLifecycle:AdaptiveDelay:QuietPeriodFactor must be from 1 to 1000 (was NaN)")]
    [InlineData("AdaptiveDelay:MinimumQuietPeriod", "00:00:00", "GracefulLifecycle:AdaptiveDelay:MinimumQuietPeriod must be greater than zero")]
    [InlineData("AdaptiveDelay:TrafficWindow", "00:00:00.500", "GracefulLifecycle:AdaptiveDelay:TrafficWindow must be from 00:00:01 to 1.00:00:00 (was 00:00:00.5000000)")]
    [InlineData("AdaptiveDelay:MaxPeers", "0", "GracefulLifecycle:AdaptiveDelay:MaxPeers must be from 1 to 1000000 (was 0)")]
    [InlineData("AdaptiveDelay:ReadinessCheck", "7", "GracefulLifecycle:AdaptiveDelay:ReadinessCheck must be Ignore, StoppedAtFailedCheck or CheckAfterQuietPeriod (was 7)")]
    [InlineData("AdaptiveDelay:ExcludedPaths:0", "metrics", "GracefulLifecycle:AdaptiveDelay:ExcludedPaths:0 must be a path starting with '/'")]
    public void InvalidOption_FailsWithAMessageNamingIt(string key, string value, string expected)
    {
        var failure = Assert.Throws<OptionsValidationException>(() => Bind(null, (key, value)));

        Assert.Contains(expected, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadinessCheck_MisspelledInConfiguration_FailsNamingTheKey()
    {
        var failure = Assert.Throws<InvalidOperationException>(() => Bind(null, ("AdaptiveDelay:ReadinessCheck", "AfterQuiet")));

        Assert.Contains("GracefulLifecycle:AdaptiveDelay:ReadinessCheck", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MinimumDelay_AboveTheShutdownDelay_FailsOnlyWhenEnabled()
    {
        // The fixed delay may be shorter than the minimum's default (0 s in tests, for one): that stays valid.
        Assert.Equal(TimeSpan.Zero, Bind(o => o.ShutdownDelay = TimeSpan.Zero).ShutdownDelay);

        var failure = Assert.Throws<OptionsValidationException>(() => Bind(null, ("AdaptiveDelay:Enabled", "true"), ("AdaptiveDelay:MinimumDelay", "00:00:06")));

        Assert.Contains(
            "GracefulLifecycle:AdaptiveDelay:MinimumDelay (00:00:06) must not exceed GracefulLifecycle:ShutdownDelay (00:00:05), the maximum of the adaptive delay",
            failure.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Validator_IsRegisteredOnce_WhenAddGracefulLifecycleIsCalledTwice()
    {
        var services = new ServiceCollection();
        services.AddGracefulLifecycle();
        services.AddGracefulLifecycle();

        Assert.Single(services, d => d.ImplementationType == typeof(AdaptiveDelayOptionsValidator));
        Assert.Single(services, d => d.ServiceType == typeof(TrafficMonitor));
    }

    [Fact]
    public void SectionName_IsTheFullPath_ThatBinds()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([KeyValuePair.Create($"{AdaptiveDelayOptions.SectionName}:{nameof(AdaptiveDelayOptions.Enabled)}", (string?)"true")])
            .Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddGracefulLifecycle();
        using var provider = services.BuildServiceProvider();

        Assert.True(provider.GetRequiredService<IOptions<GracefulLifecycleOptions>>().Value.AdaptiveDelay.Enabled);
    }

    private static GracefulLifecycleOptions Bind(Action<GracefulLifecycleOptions>? configure = null, params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create("GracefulLifecycle:" + s.Key, (string?)s.Value)))
            .Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddGracefulLifecycle(configure);
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<GracefulLifecycleOptions>>().Value;
    }
}
