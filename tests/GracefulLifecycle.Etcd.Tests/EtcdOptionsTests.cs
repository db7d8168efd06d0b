using GracefulLifecycle.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.Etcd.Tests;

/// <summary>Binding and validation of <see cref="EtcdOptions"/>: on a service collection, without a host or a server.</summary>
public sealed class EtcdOptionsTests
{
    [Fact]
    public void Endpoints_AreCommaSeparatedAbsoluteUrls_AndAMistypedOneIsReported()
    {
        var endpoints = GracefulLifecycle.Transport.RegistryUrls.Parse(" http://a:2379, https://b:2379/ ,not a url", out var invalid);

        Assert.Equal(["http://a:2379/", "https://b:2379/"], endpoints.Select(e => e.ToString()));
        Assert.Equal(["not a url"], invalid);
    }

    [Theory]
    [InlineData("Endpoints", "", "GracefulLifecycle:Etcd:Endpoints must contain at least one absolute http(s) URL")]
    [InlineData("Endpoints", "http://127.0.0.1:2379,etcd2:2379", "GracefulLifecycle:Etcd:Endpoints contains 'etcd2:2379', which is not an absolute http(s) URL")]
    [InlineData("KeyPrefix", "services", "GracefulLifecycle:Etcd:KeyPrefix must start with '/'")]
    [InlineData("LeaseTtl", "00:00:01", "GracefulLifecycle:Etcd:LeaseTtl must be a whole number of seconds, at least 2")]
    [InlineData("LeaseTtl", "00:00:02.500", "GracefulLifecycle:Etcd:LeaseTtl must be a whole number of seconds, at least 2")]
    [InlineData("KeepAliveInterval", "00:00:10", "GracefulLifecycle:Etcd:KeepAliveInterval must be greater than zero and shorter than")]
    [InlineData("Port", "0", "GracefulLifecycle:Etcd:Port must be a TCP port")]
    [InlineData("LoadBalancerCacheTtl", "-00:00:01", "GracefulLifecycle:Etcd:LoadBalancerCacheTtl must not be negative (was -00:00:01)")]
    [InlineData("ConsumerProfile", "5", "GracefulLifecycle:Etcd:ConsumerProfile must be one of Polling, Watch (was 5)")]
    public void InvalidOptions_FailNamingTheKey(string key, string value, string expected)
    {
        var failure = Failure(key, value);

        Assert.Contains(expected, failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("LeaseTtl")]
    [InlineData("RequestTimeout")]
    [InlineData("ConsumerRefreshInterval")]
    [InlineData("LoadBalancerCacheTtl")]
    [InlineData("PropagationMargin")]
    [InlineData("VisibilityDelay")]
    public void ADurationLongerThanATimerAccepts_FailsNamingTheKeyTheValueAndTheLimit(string key)
    {
        // Regression: beyond uint.MaxValue - 1 ms a timer throws, so a 50-day value failed at run time, not at startup.
        // KeepAliveInterval needs no case of its own: it must be shorter than LeaseTtl.
        var failure = Failure(key, "50.00:00:00");

        Assert.Contains(
            $"GracefulLifecycle:Etcd:{key} must be at most 49.17:02:47.2940000 (about 49.7 days, the longest timer .NET supports) (was 50.00:00:00)", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("LeaseTtl", "10")]
    [InlineData("KeepAliveInterval", "3")]
    [InlineData("RequestTimeout", "5")]
    public void ADurationWrittenAsABareNumber_FailsNamingTheKeyAndSuggestingTheColonForm(string key, string value)
    {
        // Regression: TimeSpan reads a bare number as days, so LeaseTtl=10 was a 10-day lease and no error.
        var failure = Failure(key, value);

        Assert.Contains($"GracefulLifecycle:Etcd:{key} ('{value}') is a bare number, which binds as {value} days: write a duration as hh:mm:ss, such as 00:00:10", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Delays_WithTheDefaults_AssumeConsumersPollingEveryTwoSeconds()
    {
        var registry = Registry();

        // No registry term (a revoke deletes the key at once), a 2 s poll (assumed), no load-balancer cache, 1 s margin.
        Assert.Equal(TimeSpan.FromSeconds(3), registry.PropagationDelay.Total);
        Assert.Equal(TimeSpan.Zero, registry.PropagationDelay.RegistrySide);
        Assert.Equal(
            "consumer refresh 00:00:02 (GracefulLifecycle:Etcd:ConsumerRefreshInterval, set by GracefulLifecycle:Etcd:ConsumerProfile Polling) + " +
            "load-balancer cache 00:00:00 (GracefulLifecycle:Etcd:LoadBalancerCacheTtl, set by GracefulLifecycle:Etcd:ConsumerProfile Polling) + " +
            "margin 00:00:01 (GracefulLifecycle:Etcd:PropagationMargin)",
            registry.PropagationDelay.ToString());
        Assert.Equal(TimeSpan.FromSeconds(3), registry.VisibilityDelay);
    }

    [Fact]
    public void ConsumerProfile_Watch_LeavesTheMarginAlone()
    {
        var registry = Registry(new() { ["GracefulLifecycle:Etcd:ConsumerProfile"] = "Watch" });

        Assert.Equal(TimeSpan.FromSeconds(1), registry.PropagationDelay.Total);
        Assert.Equal(TimeSpan.FromSeconds(1), registry.VisibilityDelay);
    }

    [Fact]
    public void ExplicitTerms_OverrideTheProfile_AndTheVisibilityDelayWhenSetReplacesTheChain()
    {
        var registry = Registry(new()
        {
            ["GracefulLifecycle:Etcd:ConsumerProfile"] = "Watch",
            ["GracefulLifecycle:Etcd:ConsumerRefreshInterval"] = "00:00:05",
            ["GracefulLifecycle:Etcd:LoadBalancerCacheTtl"] = "00:00:10",
            ["GracefulLifecycle:Etcd:VisibilityDelay"] = "00:00:04",
        });

        Assert.Equal(TimeSpan.FromSeconds(16), registry.PropagationDelay.Total);
        Assert.Equal(
            "consumer refresh 00:00:05 (GracefulLifecycle:Etcd:ConsumerRefreshInterval) + load-balancer cache 00:00:10 (GracefulLifecycle:Etcd:LoadBalancerCacheTtl) + " +
            "margin 00:00:01 (GracefulLifecycle:Etcd:PropagationMargin)",
            registry.PropagationDelay.ToString());
        Assert.Equal(TimeSpan.FromSeconds(4), registry.VisibilityDelay);
    }

    [Fact]
    public void AddEtcd_Twice_RegistersOneRegistry()
    {
        var services = new ServiceCollection();
        services.AddGracefulLifecycle().AddEtcd().AddEtcd();

        Assert.Single(services, d => d.ServiceType == typeof(IServiceRegistry));
    }

    /// <summary>The validation failure that resolving the options throws with <c>GracefulLifecycle:Etcd:<paramref name="key"/></c> set to <paramref name="value"/>.</summary>
    private static string Failure(string key, string value) =>
        ConfiguredAdapter.ValidationFailure<EtcdOptions>(b => b.AddEtcd(), "GracefulLifecycle:Etcd:" + key, value);

    private static IServiceRegistry Registry(Dictionary<string, string?>? settings = null) =>
        ConfiguredAdapter.Build(b => b.AddEtcd(), settings).GetRequiredService<IServiceRegistry>();
}
