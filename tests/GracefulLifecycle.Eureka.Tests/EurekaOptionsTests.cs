using GracefulLifecycle.Eureka.Tests.Infrastructure;
using GracefulLifecycle.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Eureka.Tests;

/// <summary>
/// Binding and validation of <see cref="EurekaOptions"/>, and the delays the registry derives from them: on a service
/// collection, without a host or a server.
/// </summary>
public sealed class EurekaOptionsTests
{
    [Fact]
    public void Defaults_AreEurekasAndSpringsDefaults()
    {
        var o = new EurekaOptions();

        Assert.Equal(string.Empty, o.ServiceUrl);
        Assert.Null(o.AppName);
        Assert.Null(o.InstanceId);
        Assert.Null(o.HostName);
        Assert.Null(o.IpAddress);
        Assert.False(o.PreferIpAddress);
        Assert.Null(o.Port);
        Assert.Null(o.SecurePort);
        Assert.Null(o.VipAddress);
        Assert.Null(o.SecureVipAddress);
        Assert.Empty(o.Metadata);
        Assert.Equal(30, o.LeaseRenewalIntervalInSeconds);
        Assert.Equal(90, o.LeaseExpirationDurationInSeconds);
        Assert.Equal(30_000, o.ResponseCacheUpdateIntervalMs);
        Assert.Equal(30, o.RegistryFetchIntervalSeconds);
        Assert.Equal(EurekaConsumerProfile.SpringCloudLoadBalancer, o.ConsumerProfile);
        Assert.Equal(TimeSpan.FromSeconds(35), o.LoadBalancerCacheTtl);
        Assert.Equal(TimeSpan.FromSeconds(1), o.PropagationMargin);
        Assert.Null(o.VisibilityDelay);
        Assert.Equal(TimeSpan.FromSeconds(5), o.RequestTimeout);
        Assert.Equal("GracefulLifecycle:Eureka", EurekaOptions.SectionName);
    }

    [Fact]
    public void Configuration_OverridesCode()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["GracefulLifecycle:Eureka:ServiceUrl"] = "http://eureka1:8761/eureka/,http://eureka2:8761/eureka/",
            ["GracefulLifecycle:Eureka:AppName"] = "billing",
            ["GracefulLifecycle:Eureka:PreferIpAddress"] = "true",
            ["GracefulLifecycle:Eureka:SecurePort"] = "8443",
            ["GracefulLifecycle:Eureka:Metadata:zone"] = "eu-1",
            ["GracefulLifecycle:Eureka:ResponseCacheUpdateIntervalMs"] = "5000",
            ["GracefulLifecycle:Eureka:PropagationMargin"] = "00:00:03",
            ["GracefulLifecycle:Eureka:VisibilityDelay"] = "00:00:04",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddGracefulLifecycle().AddEureka(o =>
        {
            o.ServiceUrl = "http://from-code:8761/eureka/";
            o.AppName = "orders";
            o.RegistryFetchIntervalSeconds = 7;
            o.Metadata["team"] = "checkout";
        });
        using var provider = services.BuildServiceProvider();

        var o = provider.GetRequiredService<IOptions<EurekaOptions>>().Value;

        Assert.Equal("http://eureka1:8761/eureka/,http://eureka2:8761/eureka/", o.ServiceUrl);
        Assert.Equal("billing", o.AppName);
        Assert.True(o.PreferIpAddress);
        Assert.Equal(8443, o.SecurePort);
        Assert.Equal(5000, o.ResponseCacheUpdateIntervalMs);
        Assert.Equal(7, o.RegistryFetchIntervalSeconds);
        Assert.Equal(TimeSpan.FromSeconds(3), o.PropagationMargin);
        Assert.Equal(TimeSpan.FromSeconds(4), o.VisibilityDelay);
        Assert.Equal(new Dictionary<string, string> { ["team"] = "checkout", ["zone"] = "eu-1" }, o.Metadata);
    }

    [Theory]
    [InlineData(null, "GracefulLifecycle:Eureka:ServiceUrl must contain at least one absolute http(s) URL")]
    [InlineData(" , ", "GracefulLifecycle:Eureka:ServiceUrl must contain at least one absolute http(s) URL")]
    [InlineData("eureka:8761/eureka/", "GracefulLifecycle:Eureka:ServiceUrl contains 'eureka:8761/eureka/', which is not an absolute http(s) URL")]
    [InlineData("http://eureka1:8761/eureka/,ftp://eureka2/", "GracefulLifecycle:Eureka:ServiceUrl contains 'ftp://eureka2/'")]
    [InlineData("/eureka/", "GracefulLifecycle:Eureka:ServiceUrl contains '/eureka/'")]
    public void Validation_ServiceUrl_NamesTheKey(string? serviceUrl, string message)
    {
        var failure = Validate(o => o.ServiceUrl = serviceUrl!);

        Assert.Contains(message, failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://eureka@eureka:8761/eureka/", "GracefulLifecycle:Eureka:ServiceUrl entry http://eureka:8761/eureka/ has a user name but no password; write them as http://user:password@eureka:8761/eureka/ (percent-encode '@' as %40, ':' as %3A, '/' as %2F and '%' as %25 in the user name and password).")]
    [InlineData("http://eureka:@eureka:8761/eureka/", "GracefulLifecycle:Eureka:ServiceUrl entry http://eureka:8761/eureka/ has an empty password")]
    [InlineData("http://:s3cret@eureka:8761/eureka/", "GracefulLifecycle:Eureka:ServiceUrl entry http://eureka:8761/eureka/ has a password but no user name")]
    [InlineData("http://eureka:s3cret%zz@eureka:8761/eureka/", "GracefulLifecycle:Eureka:ServiceUrl entry http://eureka:8761/eureka/ has a '%' in its user info that does not start an escape")]
    [InlineData("http://eureka:s3cret%FF@eureka:8761/eureka/", "GracefulLifecycle:Eureka:ServiceUrl entry http://eureka:8761/eureka/ has user info that is not valid UTF-8")]
    [InlineData("http://eu%3Areka:s3cret@eureka:8761/eureka/", "GracefulLifecycle:Eureka:ServiceUrl entry http://eureka:8761/eureka/ has a user name with a ':' (%3A)")]
    [InlineData("https://eureka:s3cret@eureka1:8761/eureka/,https://eureka@eureka2/eureka/", "GracefulLifecycle:Eureka:ServiceUrl entry https://eureka2/eureka/ has a user name but no password; write them as https://user:password@eureka2/eureka/")]
    [InlineData("http://eureka:s3cret@ss@eureka:8761/eureka/", "GracefulLifecycle:Eureka:ServiceUrl contains 'http://***@eureka:8761/eureka/', which is not an absolute http(s) URL such as http://eureka:8761/eureka/; percent-encode '@' as %40, ':' as %3A and '/' as %2F in a user name or password.")]
    [InlineData("http://eureka:s3/cret@eureka:8761/eureka/", "GracefulLifecycle:Eureka:ServiceUrl contains 'http://***@eureka:8761/eureka/'")]
    public void Validation_ServiceUrlWithMalformedCredentials_SaysWhatIsWrong_WithoutQuotingThem(string serviceUrl, string message)
    {
        var failure = Validate(o => o.ServiceUrl = serviceUrl);

        Assert.Contains(message, failure, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://eureka:s3cret@eureka:8761/eureka/")]
    [InlineData("http://eureka:p%40ss%3Aw%2Frd@eureka:8761/eureka/")]
    [InlineData("http://eureka:pa:ss@eureka:8761/eureka/")]
    [InlineData("http://eur%C3%A9ka:p%E2%82%AC@eureka:8761/eureka/,http://eureka2:8761/eureka/")]
    public void Validation_AcceptsUserAndPasswordInTheServiceUrl(string serviceUrl)
    {
        var services = new ServiceCollection();
        services.AddGracefulLifecycle().AddEureka(o => o.ServiceUrl = serviceUrl);
        using var provider = services.BuildServiceProvider();

        Assert.Equal(serviceUrl, provider.GetRequiredService<IOptions<EurekaOptions>>().Value.ServiceUrl);
    }

    public static TheoryData<Action<EurekaOptions>, string> InvalidOptions => new()
    {
        { o => o.AppName = " ", "GracefulLifecycle:Eureka:AppName must not be blank" },
        { o => o.InstanceId = "", "GracefulLifecycle:Eureka:InstanceId must not be blank" },
        { o => o.HostName = " ", "GracefulLifecycle:Eureka:HostName must not be blank" },
        { o => o.IpAddress = "", "GracefulLifecycle:Eureka:IpAddress must not be blank" },
        { o => o.Port = 0, "GracefulLifecycle:Eureka:Port must be a TCP port from 1 to 65535 (was 0)" },
        { o => o.SecurePort = 70000, "GracefulLifecycle:Eureka:SecurePort must be a TCP port from 1 to 65535 (was 70000)" },
        { o => o.LeaseRenewalIntervalInSeconds = 0, "GracefulLifecycle:Eureka:LeaseRenewalIntervalInSeconds must be at least 1" },
        { o => o.LeaseExpirationDurationInSeconds = 30, "GracefulLifecycle:Eureka:LeaseExpirationDurationInSeconds (30) must be greater than GracefulLifecycle:Eureka:LeaseRenewalIntervalInSeconds (30)" },
        { o => o.ResponseCacheUpdateIntervalMs = -1, "GracefulLifecycle:Eureka:ResponseCacheUpdateIntervalMs must not be negative" },
        { o => o.RegistryFetchIntervalSeconds = -1, "GracefulLifecycle:Eureka:RegistryFetchIntervalSeconds must not be negative" },
        { o => o.PropagationMargin = TimeSpan.FromSeconds(-1), "GracefulLifecycle:Eureka:PropagationMargin must not be negative" },
        { o => o.LoadBalancerCacheTtl = TimeSpan.FromSeconds(-1), "GracefulLifecycle:Eureka:LoadBalancerCacheTtl must not be negative (was -00:00:01)" },
        { o => o.ConsumerProfile = (EurekaConsumerProfile)9, "GracefulLifecycle:Eureka:ConsumerProfile must be one of SpringCloudLoadBalancer, Ribbon, Steeltoe (was 9)" },
        { o => o.VisibilityDelay = TimeSpan.FromSeconds(-1), "GracefulLifecycle:Eureka:VisibilityDelay must not be negative" },
        { o => o.RequestTimeout = TimeSpan.Zero, "GracefulLifecycle:Eureka:RequestTimeout must be greater than zero" },
        { o => o.Metadata[" "] = "x", "GracefulLifecycle:Eureka:Metadata contains a blank key" },

        // Beyond uint.MaxValue - 1 ms a timer throws at run time: each duration is held to that range at startup.
        { o => o.RequestTimeout = TimeSpan.FromDays(50), "GracefulLifecycle:Eureka:RequestTimeout must be at most 49.17:02:47.2940000 (about 49.7 days, the longest timer .NET supports) (was 50.00:00:00)" },
        { o => o.LoadBalancerCacheTtl = TimeSpan.FromDays(50), "GracefulLifecycle:Eureka:LoadBalancerCacheTtl must be at most 49.17:02:47.2940000 (about 49.7 days, the longest timer .NET supports) (was 50.00:00:00)" },
        { o => o.PropagationMargin = TimeSpan.FromDays(50), "GracefulLifecycle:Eureka:PropagationMargin must be at most 49.17:02:47.2940000 (about 49.7 days, the longest timer .NET supports) (was 50.00:00:00)" },
        { o => o.VisibilityDelay = TimeSpan.FromDays(50), "GracefulLifecycle:Eureka:VisibilityDelay must be at most 49.17:02:47.2940000 (about 49.7 days, the longest timer .NET supports) (was 50.00:00:00)" },
        { o => (o.LeaseRenewalIntervalInSeconds, o.LeaseExpirationDurationInSeconds) = (4_320_000, 4_320_090), "GracefulLifecycle:Eureka:LeaseRenewalIntervalInSeconds must be at most 4294967 (about 49.7 days, the longest timer .NET supports) (was 4320000)" },
        { o => o.LeaseExpirationDurationInSeconds = 4_320_000, "GracefulLifecycle:Eureka:LeaseExpirationDurationInSeconds must be at most 4294967 (about 49.7 days, the longest timer .NET supports) (was 4320000)" },
        { o => o.RegistryFetchIntervalSeconds = 4_320_000, "GracefulLifecycle:Eureka:RegistryFetchIntervalSeconds must be at most 4294967 (about 49.7 days, the longest timer .NET supports) (was 4320000)" },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Validation_NamesTheKeyAtFault(Action<EurekaOptions> configure, string message)
    {
        var failure = Validate(o =>
        {
            o.ServiceUrl = "http://eureka:8761/eureka/";
            configure(o);
        });

        Assert.Contains(message, failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Validation_AcceptsSeveralServersAndTheDefaults()
    {
        var services = new ServiceCollection();
        services.AddGracefulLifecycle().AddEureka(o => o.ServiceUrl = "http://eureka1:8761/eureka/, https://eureka2/eureka");
        using var provider = services.BuildServiceProvider();

        Assert.Equal(30, provider.GetRequiredService<IOptions<EurekaOptions>>().Value.LeaseRenewalIntervalInSeconds);
    }

    [Theory]
    [InlineData("RequestTimeout", "5")]
    [InlineData("VisibilityDelay", "30")]
    [InlineData("PropagationMargin", "2")]
    public void ADurationWrittenAsABareNumber_FailsNamingTheKeyAndSuggestingTheColonForm(string key, string value)
    {
        // Regression: TimeSpan reads a bare number as days, so seconds meant by an operator became days, with no error.
        var failure = ConfiguredAdapter.ValidationFailure<EurekaOptions>(b => b.AddEureka(), "GracefulLifecycle:Eureka:" + key, value);

        Assert.Contains($"GracefulLifecycle:Eureka:{key} ('{value}') is a bare number, which binds as {value} days: write a duration as hh:mm:ss, such as 00:00:10", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void AddEureka_Twice_RegistersTheRegistryOnceAndAppliesBothDelegates()
    {
        var services = new ServiceCollection();
        var lifecycle = services.AddGracefulLifecycle();

        lifecycle.AddEureka(o => o.ServiceUrl = "http://eureka:8761/eureka/");
        var returned = lifecycle.AddEureka(o => o.AppName = "orders");

        Assert.Same(lifecycle, returned);
        Assert.Single(services, d => d.ServiceType == typeof(IServiceRegistry));
        Assert.Single(services, d => d.ServiceType == typeof(IValidateOptions<EurekaOptions>) && d.ImplementationType == typeof(EurekaOptionsValidator));
        using var provider = services.BuildServiceProvider();
        var registry = Assert.Single(provider.GetServices<IServiceRegistry>());
        Assert.IsType<EurekaRegistry>(registry);
        var o = provider.GetRequiredService<IOptions<EurekaOptions>>().Value;
        Assert.Equal("http://eureka:8761/eureka/", o.ServiceUrl);
        Assert.Equal("orders", o.AppName);
        Assert.NotNull(provider.GetRequiredService<IHttpClientFactory>().CreateClient(EurekaRegistry.HttpClientName));
    }

    [Fact]
    public void AddEureka_NullBuilder_Throws() =>
        Assert.Throws<ArgumentNullException>("builder", () => EurekaLifecycleBuilderExtensions.AddEureka(null!));

    [Fact]
    public void Delays_WithTheDefaults_CoverSpringCloudLoadBalancerConsumers()
    {
        var delay = Derive(_ => { });

        // Server read-only cache 30 s + client fetch 30 s + Spring Cloud LoadBalancer cache 35 s + 1 s: at least 95 s.
        Assert.Equal(TimeSpan.FromSeconds(96), delay.Total);
        Assert.Equal(TimeSpan.FromSeconds(30), delay.RegistrySide);
        Assert.Equal(
            "registry cache 00:00:30 (GracefulLifecycle:Eureka:ResponseCacheUpdateIntervalMs) + consumer refresh 00:00:30 (GracefulLifecycle:Eureka:RegistryFetchIntervalSeconds) + " +
            "load-balancer cache 00:00:35 (GracefulLifecycle:Eureka:LoadBalancerCacheTtl, set by GracefulLifecycle:Eureka:ConsumerProfile SpringCloudLoadBalancer) + " +
            "margin 00:00:01 (GracefulLifecycle:Eureka:PropagationMargin)",
            delay.ToString());
    }

    [Fact]
    public void Delays_WithSeed002sSettings_StillCoverTheLoadBalancerCache()
    {
        // eureka.server.responseCacheUpdateIntervalMs 5000, eureka.client.registryFetchIntervalSeconds 5: 5 + 5 + 35 + 1.
        var delay = Derive(o =>
        {
            o.ResponseCacheUpdateIntervalMs = 5000;
            o.RegistryFetchIntervalSeconds = 5;
        });

        Assert.Equal(TimeSpan.FromSeconds(46), delay.Total);
        Assert.Equal(TimeSpan.FromSeconds(5), delay.RegistrySide);
    }

    [Theory]
    [InlineData(EurekaConsumerProfile.SpringCloudLoadBalancer, 35, 96)]
    [InlineData(EurekaConsumerProfile.Ribbon, 30, 91)]
    [InlineData(EurekaConsumerProfile.Steeltoe, 0, 61)]
    public void ConsumerProfile_SetsTheLoadBalancerTerm(EurekaConsumerProfile profile, int loadBalancerSeconds, int totalSeconds)
    {
        var delay = Derive(o => o.ConsumerProfile = profile);

        var term = Assert.Single(delay.Terms, t => t.Stage == PropagationStage.LoadBalancerCache);
        Assert.Equal(TimeSpan.FromSeconds(loadBalancerSeconds), term.Duration);
        Assert.Equal($"GracefulLifecycle:Eureka:LoadBalancerCacheTtl, set by GracefulLifecycle:Eureka:ConsumerProfile {profile}", term.Source);
        Assert.Equal(TimeSpan.FromSeconds(totalSeconds), delay.Total);
    }

    [Fact]
    public void LoadBalancerCacheTtl_SetExplicitly_OverridesTheProfile_InCodeAndInConfiguration()
    {
        var inCode = Derive(o =>
        {
            o.ConsumerProfile = EurekaConsumerProfile.Steeltoe;
            o.LoadBalancerCacheTtl = TimeSpan.FromSeconds(10);
        });
        var fromConfiguration = Derive(_ => { }, new() { ["GracefulLifecycle:Eureka:LoadBalancerCacheTtl"] = "00:00:00" });

        Assert.Equal(TimeSpan.FromSeconds(71), inCode.Total);
        Assert.Equal("GracefulLifecycle:Eureka:LoadBalancerCacheTtl", Assert.Single(inCode.Terms, t => t.Stage == PropagationStage.LoadBalancerCache).Source);
        Assert.Equal(TimeSpan.FromSeconds(61), fromConfiguration.Total);
    }

    [Fact]
    public void ConsumerProfile_FromConfiguration_SetsTheTermsNotSetExplicitly()
    {
        // Binding must leave an absent LoadBalancerCacheTtl to the profile bound next to it.
        var delay = Derive(_ => { }, new() { ["GracefulLifecycle:Eureka:ConsumerProfile"] = "Steeltoe" });

        Assert.Equal(TimeSpan.FromSeconds(61), delay.Total);
        Assert.EndsWith("ConsumerProfile Steeltoe", Assert.Single(delay.Terms, t => t.Stage == PropagationStage.LoadBalancerCache).Source, StringComparison.Ordinal);
    }

    [Fact]
    public void VisibilityDelay_FollowsTheSameChain_UnlessSet()
    {
        using var derived = EurekaTestBed.Resolve(o =>
        {
            o.ServiceUrl = "http://eureka:8761/eureka/";
            o.ResponseCacheUpdateIntervalMs = 30_000;
            o.RegistryFetchIntervalSeconds = 30;
            o.LoadBalancerCacheTtl = TimeSpan.FromSeconds(35);
            o.PropagationMargin = TimeSpan.FromSeconds(1);
            o.LeaseRenewalIntervalInSeconds = 30;
            o.LeaseExpirationDurationInSeconds = 90;
        });
        using var set = EurekaTestBed.Resolve(o =>
        {
            o.ServiceUrl = "http://eureka:8761/eureka/";
            o.VisibilityDelay = TimeSpan.FromSeconds(7);
        });

        Assert.Equal("Eureka", derived.Registry<EurekaRegistry>().Name);
        Assert.Equal(TimeSpan.FromSeconds(96), derived.Registry<EurekaRegistry>().VisibilityDelay);
        Assert.Equal(TimeSpan.FromSeconds(30), derived.Registry<EurekaRegistry>().RenewalInterval);
        Assert.Equal(TimeSpan.FromSeconds(7), set.Registry<EurekaRegistry>().VisibilityDelay);
        Assert.Equal(TimeSpan.FromMilliseconds(2500), set.Registry<EurekaRegistry>().PropagationDelay.Total);
    }

    /// <summary>The propagation delay the registry derives from the defaults, <paramref name="configure"/> and configuration.</summary>
    private static PropagationDelay Derive(Action<EurekaOptions> configure, Dictionary<string, string?>? settings = null)
    {
        using var provider = ConfiguredAdapter.Build(
            b => b.AddEureka(o =>
            {
                o.ServiceUrl = "http://eureka:8761/eureka/";
                configure(o);
            }),
            settings);
        return provider.GetRequiredService<IServiceRegistry>().PropagationDelay;
    }

    private static string Validate(Action<EurekaOptions> configure)
    {
        var services = new ServiceCollection();
        services.AddGracefulLifecycle().AddEureka(configure);
        using var provider = services.BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<EurekaOptions>>().Value);
        return Errors.AllMessages(error);
    }
}
