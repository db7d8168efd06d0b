using GracefulLifecycle.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Consul.Tests;

public sealed class ConsulOptionsTests
{
    [Fact]
    public void Defaults_AreTheDocumentedOnes()
    {
        var options = new ConsulOptions();

        Assert.Equal("GracefulLifecycle:Consul", ConsulOptions.SectionName);
        Assert.Equal("http://127.0.0.1:8500", options.Address);
        Assert.Null(options.Token);
        Assert.Null(options.ServiceName);
        Assert.Null(options.ServiceId);
        Assert.Null(options.ServiceAddress);
        Assert.Null(options.Port);
        Assert.Empty(options.Tags);
        Assert.Empty(options.Metadata);
        Assert.Equal(TimeSpan.FromSeconds(2), options.CheckInterval);
        Assert.Equal(TimeSpan.FromSeconds(1), options.CheckTimeout);
        Assert.Equal(TimeSpan.FromMinutes(1), options.DeregisterCriticalServiceAfter);
        Assert.Null(options.CheckUrl);
        Assert.Equal(ConsulConsumerProfile.SpringCloudLoadBalancer, options.ConsumerProfile);
        Assert.Equal(TimeSpan.Zero, options.ConsumerRefreshInterval);
        Assert.Equal(TimeSpan.FromSeconds(35), options.LoadBalancerCacheTtl);
        Assert.Equal(TimeSpan.FromSeconds(1), options.PropagationMargin);
        Assert.Null(options.VisibilityDelay);
        Assert.Equal(TimeSpan.FromSeconds(30), options.RenewalInterval);
        Assert.Equal(TimeSpan.FromSeconds(5), options.RequestTimeout);
        Assert.True(new ConsulOptionsValidator().Validate(null, options).Succeeded);
    }

    [Fact]
    public void Delays_WithTheDefaults_CoverSpringCloudConsulConsumers_AndTheirLoadBalancerCache()
    {
        using var services = Build(configure: o => o.RenewalInterval = TimeSpan.FromSeconds(11));

        var registry = Assert.IsType<ConsulRegistry>(Assert.Single(services.GetServices<IServiceRegistry>()));

        // No registry term (the agent syncs the catalog before answering), a lookup on each call, a 35 s cache over it.
        Assert.Equal("Consul", registry.Name);
        Assert.Equal(TimeSpan.FromSeconds(36), registry.PropagationDelay.Total);
        Assert.Equal(TimeSpan.Zero, registry.PropagationDelay.RegistrySide);
        Assert.Equal(
            "consumer refresh 00:00:00 (GracefulLifecycle:Consul:ConsumerRefreshInterval, set by GracefulLifecycle:Consul:ConsumerProfile SpringCloudLoadBalancer) + " +
            "load-balancer cache 00:00:35 (GracefulLifecycle:Consul:LoadBalancerCacheTtl, set by GracefulLifecycle:Consul:ConsumerProfile SpringCloudLoadBalancer) + " +
            "margin 00:00:01 (GracefulLifecycle:Consul:PropagationMargin)",
            registry.PropagationDelay.ToString());

        // They list critical instances too, so they see a new one only when their cache expires: readiness waits for it.
        Assert.Equal(TimeSpan.FromSeconds(36), registry.VisibilityDelay);
        Assert.Equal(TimeSpan.FromSeconds(11), registry.RenewalInterval);
    }

    [Fact]
    public void ConsumerProfile_Immediate_LeavesTheMarginAlone_AndNoVisibilityWait()
    {
        using var services = Build(settings: new Dictionary<string, string?> { ["GracefulLifecycle:Consul:ConsumerProfile"] = "Immediate" });

        var registry = Assert.Single(services.GetServices<IServiceRegistry>());

        Assert.Equal(TimeSpan.FromSeconds(1), registry.PropagationDelay.Total);
        Assert.Equal(TimeSpan.Zero, registry.VisibilityDelay);
    }

    [Fact]
    public void ExplicitTerms_OverrideTheProfile()
    {
        using var services = Build(
            configure: o => o.ConsumerRefreshInterval = TimeSpan.FromSeconds(7),
            settings: new Dictionary<string, string?> { ["GracefulLifecycle:Consul:LoadBalancerCacheTtl"] = "00:00:10", ["GracefulLifecycle:Consul:ConsumerProfile"] = "Immediate" });

        var delay = Assert.Single(services.GetServices<IServiceRegistry>()).PropagationDelay;

        Assert.Equal(TimeSpan.FromSeconds(18), delay.Total);
        Assert.Equal(
            "consumer refresh 00:00:07 (GracefulLifecycle:Consul:ConsumerRefreshInterval) + load-balancer cache 00:00:10 (GracefulLifecycle:Consul:LoadBalancerCacheTtl) + " +
            "margin 00:00:01 (GracefulLifecycle:Consul:PropagationMargin)",
            delay.ToString());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(59)]
    public void Validation_DeregisterCriticalServiceAfterBelowOneMinute_IsAccepted_AsConsulRaisesIt(int seconds)
    {
        var result = new ConsulOptionsValidator().Validate(null, new ConsulOptions { DeregisterCriticalServiceAfter = TimeSpan.FromSeconds(seconds) });

        Assert.True(result.Succeeded, string.Join("; ", result.Failures ?? []));
    }

    public static TheoryData<Action<ConsulOptions>, string> TooLongForATimer => new()
    {
        { o => o.CheckInterval = TimeSpan.FromDays(50), "CheckInterval" },
        { o => o.CheckTimeout = TimeSpan.FromDays(50), "CheckTimeout" },
        { o => o.DeregisterCriticalServiceAfter = TimeSpan.FromDays(50), "DeregisterCriticalServiceAfter" },
        { o => o.ConsumerRefreshInterval = TimeSpan.FromDays(50), "ConsumerRefreshInterval" },
        { o => o.LoadBalancerCacheTtl = TimeSpan.FromDays(50), "LoadBalancerCacheTtl" },
        { o => o.PropagationMargin = TimeSpan.FromDays(50), "PropagationMargin" },
        { o => o.VisibilityDelay = TimeSpan.FromDays(50), "VisibilityDelay" },
        { o => o.RenewalInterval = TimeSpan.FromDays(50), "RenewalInterval" },
        { o => o.RequestTimeout = TimeSpan.FromDays(50), "RequestTimeout" },
    };

    [Theory]
    [MemberData(nameof(TooLongForATimer))]
    public void Validation_ADurationLongerThanATimerAccepts_NamesTheKeyTheValueAndTheLimit(Action<ConsulOptions> configure, string key)
    {
        // Regression: beyond uint.MaxValue - 1 ms a timer throws, so a 50-day RequestTimeout failed at the first call.
        var options = new ConsulOptions();
        configure(options);

        var failure = Assert.Single(new ConsulOptionsValidator().Validate(null, options).Failures!);
        Assert.Equal($"GracefulLifecycle:Consul:{key} must be at most 49.17:02:47.2940000 (about 49.7 days, the longest timer .NET supports) (was 50.00:00:00).", failure);
    }

    [Fact]
    public void Validation_NegativeDeregisterCriticalServiceAfter_NamesTheKeyTheValueAndTheFix()
    {
        var result = new ConsulOptionsValidator().Validate(null, new ConsulOptions { DeregisterCriticalServiceAfter = TimeSpan.FromSeconds(-30) });

        var failure = Assert.Single(result.Failures!);
        Assert.Equal(
            "GracefulLifecycle:Consul:DeregisterCriticalServiceAfter must not be negative (was -00:00:30); " +
            "use 00:01:00 (Consul's minimum, the default), or 00:00:00 to never remove the service.",
            failure);
    }

    [Theory]
    [InlineData("Address", "GracefulLifecycle:Consul:Address must be an absolute http or https URL")]
    [InlineData("Token", "GracefulLifecycle:Consul:Token must not be blank")]
    [InlineData("ServiceName", "GracefulLifecycle:Consul:ServiceName must not be blank")]
    [InlineData("ServiceId", "GracefulLifecycle:Consul:ServiceId must not be blank")]
    [InlineData("ServiceAddress", "GracefulLifecycle:Consul:ServiceAddress must be an address consumers can call")]
    [InlineData("Port", "GracefulLifecycle:Consul:Port must be a TCP port from 1 to 65535")]
    [InlineData("Tags", "GracefulLifecycle:Consul:Tags:0 must not be empty")]
    [InlineData("MetaKey", "GracefulLifecycle:Consul:Metadata:bad key is not a valid Consul metadata key")]
    [InlineData("MetaReserved", "GracefulLifecycle:Consul:Metadata:consul-version uses the prefix 'consul-'")]
    [InlineData("CheckInterval", "GracefulLifecycle:Consul:CheckInterval must be greater than zero")]
    [InlineData("CheckTimeout", "GracefulLifecycle:Consul:CheckTimeout must be greater than zero")]
    [InlineData("CheckUrl", "GracefulLifecycle:Consul:CheckUrl must be an absolute http or https URL")]
    [InlineData("LivenessCheckUrl", "GracefulLifecycle:Consul:LivenessCheckUrl must be an absolute http or https URL")]
    [InlineData("ConsumerRefreshInterval", "GracefulLifecycle:Consul:ConsumerRefreshInterval must not be negative")]
    [InlineData("LoadBalancerCacheTtl", "GracefulLifecycle:Consul:LoadBalancerCacheTtl must not be negative (was -00:00:01)")]
    [InlineData("ConsumerProfile", "GracefulLifecycle:Consul:ConsumerProfile must be one of SpringCloudLoadBalancer, Immediate (was 7)")]
    [InlineData("VisibilityDelay", "GracefulLifecycle:Consul:VisibilityDelay must not be negative")]
    [InlineData("RenewalInterval", "GracefulLifecycle:Consul:RenewalInterval must be greater than zero")]
    [InlineData("RequestTimeout", "GracefulLifecycle:Consul:RequestTimeout must be greater than zero")]
    public void Validation_NamesTheKeyAtFault(string what, string expected)
    {
        var options = new ConsulOptions();
        switch (what)
        {
            case "Address": options.Address = "127.0.0.1:8500"; break;
            case "Token": options.Token = " "; break;
            case "ServiceName": options.ServiceName = ""; break;
            case "ServiceId": options.ServiceId = " "; break;
            case "ServiceAddress": options.ServiceAddress = "0.0.0.0"; break;
            case "Port": options.Port = 70000; break;
            case "Tags": options.Tags.Add(""); break;
            case "MetaKey": options.Metadata["bad key"] = "x"; break;
            case "MetaReserved": options.Metadata["consul-version"] = "x"; break;
            case "CheckInterval": options.CheckInterval = TimeSpan.Zero; break;
            case "CheckTimeout": options.CheckTimeout = TimeSpan.FromSeconds(-1); break;
            case "CheckUrl": options.CheckUrl = "/ifready"; break;
            case "LivenessCheckUrl": options.LivenessCheckUrl = "/health"; break;
            case "ConsumerRefreshInterval": options.ConsumerRefreshInterval = TimeSpan.FromSeconds(-1); break;
            case "LoadBalancerCacheTtl": options.LoadBalancerCacheTtl = TimeSpan.FromSeconds(-1); break;
            case "ConsumerProfile": options.ConsumerProfile = (ConsulConsumerProfile)7; break;
            case "VisibilityDelay": options.VisibilityDelay = TimeSpan.FromSeconds(-1); break;
            case "RenewalInterval": options.RenewalInterval = TimeSpan.Zero; break;
            case "RequestTimeout": options.RequestTimeout = TimeSpan.Zero; break;
        }

        var result = new ConsulOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.StartsWith(expected, Assert.Single(result.Failures!), StringComparison.Ordinal);
    }

    [Fact]
    public void Validation_InfiniteRenewalInterval_TurnsTheVerificationOff_AndIsValid()
    {
        var result = new ConsulOptionsValidator().Validate(null, new ConsulOptions { RenewalInterval = Timeout.InfiniteTimeSpan });

        Assert.True(result.Succeeded);
    }

    [Fact]
    public void Configuration_OldMetaKey_FailsNamingTheNewKey()
    {
        using var services = Build(settings: new Dictionary<string, string?>
        {
            ["GracefulLifecycle:Consul:Meta:zone"] = "eu-1",
            ["GracefulLifecycle:Consul:Meta:version"] = "2",
        });

        var ex = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<ConsulOptions>>().Value);

        Assert.Contains(
            "GracefulLifecycle:Consul:Meta was renamed GracefulLifecycle:Consul:Metadata; move its 2 entries (version, zone) there.",
            ex.Failures);
    }

    [Fact]
    public void Configuration_OverridesCode()
    {
        using var services = Build(
            configure: o =>
            {
                o.ServiceName = "from-code";
                o.CheckInterval = TimeSpan.FromSeconds(9);
                o.Token = "code-token";
            },
            settings: new Dictionary<string, string?>
            {
                ["GracefulLifecycle:Consul:ServiceName"] = "from-config",
                ["GracefulLifecycle:Consul:CheckInterval"] = "00:00:03",
                ["GracefulLifecycle:Consul:Metadata:zone"] = "eu-1",
                ["GracefulLifecycle:Consul:Tags:0"] = "blue",
            });

        var options = services.GetRequiredService<IOptions<ConsulOptions>>().Value;

        Assert.Equal("from-config", options.ServiceName);
        Assert.Equal(TimeSpan.FromSeconds(3), options.CheckInterval);
        Assert.Equal("code-token", options.Token);
        Assert.Equal("eu-1", options.Metadata["zone"]);
        Assert.Equal(["blue"], options.Tags);
    }

    [Fact]
    public void Validation_InvalidConfiguredValue_FailsOptionsResolution_NamingTheKey()
    {
        using var services = Build(settings: new Dictionary<string, string?>
        {
            ["GracefulLifecycle:Consul:DeregisterCriticalServiceAfter"] = "-00:00:30",
        });

        var ex = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<ConsulOptions>>().Value);

        Assert.Contains("GracefulLifecycle:Consul:DeregisterCriticalServiceAfter must not be negative (was -00:00:30)", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("CheckInterval", "10")]
    [InlineData("DeregisterCriticalServiceAfter", "2")]
    [InlineData("RenewalInterval", "30")]
    public void ADurationWrittenAsABareNumber_FailsNamingTheKeyAndSuggestingTheColonForm(string key, string value)
    {
        // Regression: TimeSpan reads a bare number as days, so seconds meant by an operator became days, with no error.
        var failure = ConfiguredAdapter.ValidationFailure<ConsulOptions>(b => b.AddConsul(), "GracefulLifecycle:Consul:" + key, value);

        Assert.Contains($"GracefulLifecycle:Consul:{key} ('{value}') is a bare number, which binds as {value} days: write a duration as hh:mm:ss, such as 00:00:10", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void AddConsul_Twice_RegistersTheRegistryOnceAndAppliesBothDelegates()
    {
        var collection = NewCollection(settings: null);
        var lifecycle = collection.AddGracefulLifecycle();

        lifecycle.AddConsul(o => o.Tags.Add("first")).AddConsul(o => o.ServiceName = "second");

        Assert.Single(collection, d => d.ServiceType == typeof(IServiceRegistry));
        Assert.Single(collection, d => d.ServiceType == typeof(IValidateOptions<ConsulOptions>) && d.ImplementationType == typeof(ConsulOptionsValidator));
        using var services = collection.BuildServiceProvider();
        Assert.Single(services.GetServices<IServiceRegistry>());
        var options = services.GetRequiredService<IOptions<ConsulOptions>>().Value;
        Assert.Equal(["first"], options.Tags);
        Assert.Equal("second", options.ServiceName);
    }

    [Fact]
    public void AddConsul_WithoutADelegate_UsesTheDefaults()
    {
        using var services = Build(configure: null);

        var options = services.GetRequiredService<IOptions<ConsulOptions>>().Value;

        Assert.Equal("http://127.0.0.1:8500", options.Address);
        Assert.NotNull(services.GetRequiredService<IHttpClientFactory>().CreateClient(ConsulRegistry.HttpClientName));
    }

    internal static ServiceProvider Build(
        Action<ConsulOptions>? configure = null,
        IDictionary<string, string?>? settings = null,
        TimeProvider? time = null,
        CapturingLoggerProvider? logs = null,
        Action<IServiceCollection>? services = null)
    {
        var collection = NewCollection(settings, logs);
        if (time is not null)
        {
            collection.AddSingleton(time);
        }

        collection.AddGracefulLifecycle().AddConsul(configure);
        services?.Invoke(collection);
        return collection.BuildServiceProvider();
    }

    private static ServiceCollection NewCollection(IDictionary<string, string?>? settings, CapturingLoggerProvider? logs = null)
    {
        var collection = new ServiceCollection();
        collection.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build());
        collection.AddSingleton<IHostEnvironment>(new HostingEnvironment { ApplicationName = "orders-api", EnvironmentName = "Test" });
        collection.AddLogging(b =>
        {
            if (logs is not null)
            {
                b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug);
            }
        });
        return collection;
    }
}
