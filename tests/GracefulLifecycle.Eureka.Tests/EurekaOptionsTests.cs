using GracefulLifecycle.Eureka.Tests.Infrastructure;
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
        { o => o.VisibilityDelay = TimeSpan.FromSeconds(-1), "GracefulLifecycle:Eureka:VisibilityDelay must not be negative" },
        { o => o.RequestTimeout = TimeSpan.Zero, "GracefulLifecycle:Eureka:RequestTimeout must be greater than zero" },
        { o => o.Metadata[" "] = "x", "GracefulLifecycle:Eureka:Metadata contains a blank key" },
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
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([KeyValuePair.Create<string, string?>("GracefulLifecycle:Eureka:" + key, value)])
            .Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddGracefulLifecycle().AddEureka();
        using var provider = services.BuildServiceProvider();

        var failure = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<EurekaOptions>>().Value);

        Assert.Contains($"GracefulLifecycle:Eureka:{key} ('{value}') is a bare number, which binds as {value} days: write a duration as hh:mm:ss, such as 00:00:10", failure.Message, StringComparison.Ordinal);
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
    public void Delays_FollowTheServerCacheTheConsumersFetchAndTheMargin()
    {
        using var h = new RegistryHarness(o =>
        {
            o.ServiceUrl = "http://eureka:8761/eureka/";
            o.ResponseCacheUpdateIntervalMs = 30_000;
            o.RegistryFetchIntervalSeconds = 30;
            o.PropagationMargin = TimeSpan.FromSeconds(1);
            o.LeaseRenewalIntervalInSeconds = 30;
            o.LeaseExpirationDurationInSeconds = 90;
        });

        Assert.Equal("Eureka", h.Registry.Name);
        Assert.Equal(TimeSpan.FromSeconds(61), h.Registry.PropagationDelay);
        Assert.Equal(TimeSpan.FromSeconds(61), h.Registry.VisibilityDelay);
        Assert.Equal(TimeSpan.FromSeconds(30), h.Registry.RenewalInterval);
    }

    [Fact]
    public void VisibilityDelay_WhenSet_ReplacesThePropagationDelay()
    {
        using var h = new RegistryHarness(o =>
        {
            o.ServiceUrl = "http://eureka:8761/eureka/";
            o.VisibilityDelay = TimeSpan.FromSeconds(7);
        });

        Assert.Equal(TimeSpan.FromSeconds(7), h.Registry.VisibilityDelay);
        Assert.Equal(TimeSpan.FromMilliseconds(2500), h.Registry.PropagationDelay);
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
