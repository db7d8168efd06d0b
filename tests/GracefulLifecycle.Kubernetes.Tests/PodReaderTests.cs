using GracefulLifecycle.Kubernetes;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.TestSupport.Kubernetes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Kubernetes.Tests;

public sealed class PodReaderTests
{
    [Fact]
    public async Task ReadAsync_FakeApiServer_ParsesThePodWithTheServiceAccountToken()
    {
        await using var api = await FakeKubernetesApiServer.StartAsync();
        api.UpdatePod(p => p.Container.PreStop = FakeHandler.Sleep(5));
        await using var services = Services(api.Configuration);

        var result = await services.GetRequiredService<PodReader>().ReadAsync(CancellationToken.None);

        Assert.Null(result.Failure);
        var pod = Assert.IsType<KubernetesPod>(result.Pod);
        Assert.Equal(api.Pod.Name, pod.Name);
        Assert.Equal(30, pod.GracePeriodSeconds);
        var container = Assert.Single(pod.Containers);
        Assert.Equal("/ifready", container.ReadinessProbe!.Handler.HttpGet!.Path);
        Assert.Equal(8080, container.ResolvePort(container.ReadinessProbe.Handler.HttpGet.Port));
        Assert.Equal(5, container.PreStop!.SleepSeconds);
        var request = Assert.Single(api.Requests);
        Assert.Equal($"/api/v1/namespaces/{api.Pod.Namespace}/pods/{api.Pod.Name}", request.Path);
        Assert.Equal("Bearer " + api.Token, request.Authorization);
    }

    [Fact]
    public void Location_InAPod_ComesFromTheServiceAccountAndTheEnvironment()
    {
        using var account = new ServiceAccountDirectory("shop");
        var environment = account.Environment(("KUBERNETES_SERVICE_HOST", "10.96.0.1"), ("KUBERNETES_SERVICE_PORT", "443"), ("POD_NAME", "app-1"), ("HOSTNAME", "host-1"));

        var location = PodLocation.Find(new KubernetesOptions(), environment);

        Assert.Null(location.Missing);
        Assert.Equal(new Uri("https://10.96.0.1:443/api/v1/namespaces/shop/pods/app-1"), location.PodUrl);
        Assert.Equal(KubernetesOptions.DefaultTokenPath, location.TokenPath);
        Assert.Equal(Path.Combine(account.Path, "ca.crt"), location.CaPath);
    }

    [Fact]
    public void Location_NoPodName_UsesHostnameAndBracketsAnIPv6Host()
    {
        using var account = new ServiceAccountDirectory("shop");
        var environment = account.Environment(("KUBERNETES_SERVICE_HOST", "fd00:10:96::1"), ("KUBERNETES_SERVICE_PORT", "6443"), ("HOSTNAME", "host-1"));

        var location = PodLocation.Find(new KubernetesOptions(), environment);

        Assert.Equal(new Uri("https://[fd00:10:96::1]:6443/api/v1/namespaces/shop/pods/host-1"), location.PodUrl);
    }

    [Fact]
    public void Location_Configuration_OverridesEachValue()
    {
        using var account = new ServiceAccountDirectory("shop");
        var environment = account.Environment(("KUBERNETES_SERVICE_HOST", "10.96.0.1"), ("KUBERNETES_SERVICE_PORT", "443"), ("POD_NAME", "app-1"));
        var options = new KubernetesOptions { ApiServer = "http://127.0.0.1:8001", Namespace = "other", PodName = "app-2", TokenPath = "/tmp/token" };

        var location = PodLocation.Find(options, environment);

        Assert.Equal(new Uri("http://127.0.0.1:8001/api/v1/namespaces/other/pods/app-2"), location.PodUrl);
        Assert.Equal("/tmp/token", location.TokenPath);
        Assert.Null(location.CaPath);
    }

    [Fact]
    public void Location_OutsideACluster_SaysWhatIsMissing()
    {
        var location = PodLocation.Find(new KubernetesOptions(), new KubernetesEnvironment(_ => null, "/nonexistent"));

        Assert.StartsWith("the API server (no KUBERNETES_SERVICE_HOST and no GracefulLifecycle:Kubernetes:ApiServer)", location.Missing, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_OutsideACluster_CallsNothingAndSaysSoOnceAtInformation()
    {
        var logs = new CapturingLoggerProvider();
        await using var services = Services(new Dictionary<string, string?>(), logs: logs);
        var reader = services.GetRequiredService<PodReader>();

        var first = await reader.ReadAsync(CancellationToken.None);
        await reader.ReadAsync(CancellationToken.None);

        Assert.Equal(PodReadFailure.NotInCluster, first.Failure);
        var line = Assert.Single(logs.Collector.GetSnapshot(), r => r.Id.Id is >= 300 and < 330);
        Assert.Equal(LogLevel.Information, line.Level);
        Assert.Equal("KubernetesNotInCluster", line.Id.Name);
    }

    [Fact]
    public async Task ReadAsync_InAPodWithoutAToken_WarnsOnceNamingTheTokenFile()
    {
        using var account = new ServiceAccountDirectory("shop");
        var logs = new CapturingLoggerProvider();
        await using var services = Services(
            new Dictionary<string, string?> { ["GracefulLifecycle:Kubernetes:TokenPath"] = Path.Combine(account.Path, "missing-token") },
            account.Environment(("KUBERNETES_SERVICE_HOST", "10.96.0.1"), ("KUBERNETES_SERVICE_PORT", "443"), ("HOSTNAME", "app-1")),
            logs);

        var result = await services.GetRequiredService<PodReader>().ReadAsync(CancellationToken.None);

        Assert.Equal(PodReadFailure.NoToken, result.Failure);
        var warning = Assert.Single(Warnings(logs));
        Assert.Contains("no service account token at " + Path.Combine(account.Path, "missing-token"), warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_TokenRotated_SendsTheNewToken()
    {
        await using var api = await FakeKubernetesApiServer.StartAsync();
        await using var services = Services(api.Configuration);
        var reader = services.GetRequiredService<PodReader>();
        Assert.NotNull((await reader.ReadAsync(CancellationToken.None)).Pod);

        api.RotateToken("rotated-token");
        var result = await reader.ReadAsync(CancellationToken.None);

        Assert.NotNull(result.Pod);
        Assert.Equal("Bearer rotated-token", api.Requests[^1].Authorization);
    }

    [Fact]
    public async Task ReadAsync_Forbidden_WarnsOnceNamingTheRoleToGrant()
    {
        await using var api = await FakeKubernetesApiServer.StartAsync();
        api.FailWith(403);
        var logs = new CapturingLoggerProvider();
        await using var services = Services(api.Configuration, logs: logs);
        var reader = services.GetRequiredService<PodReader>();

        var first = await reader.ReadAsync(CancellationToken.None);
        var second = await reader.ReadAsync(CancellationToken.None);

        Assert.Equal(PodReadFailure.Forbidden, first.Failure);
        Assert.Equal(PodReadFailure.Forbidden, second.Failure);
        Assert.Equal(2, api.RequestCount);
        var warning = Assert.Single(Warnings(logs));
        Assert.Equal("KubernetesForbidden", warning.Id.Name);
        Assert.Contains(
            $"(403: pods \"{api.Pod.Name}\" is forbidden: User \"system:serviceaccount:shop:app\" cannot get resource \"pods\" in API group \"\" in the namespace \"shop\")",
            warning.Message,
            StringComparison.Ordinal);
        Assert.Contains("a Role in namespace shop with apiGroups [\"\"], resources [\"pods\"], verbs [\"get\"], and a RoleBinding", warning.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(401, "Unauthorized", "KubernetesUnauthorized", "(401: Unauthorized)")]
    [InlineData(404, "NotFound", "KubernetesPodNotFound", "not found): set POD_NAME from the downward API")]
    [InlineData(500, "UnexpectedAnswer", "KubernetesUnexpectedAnswer", "(500: an error on the server")]
    public async Task ReadAsync_ApiRefuses_WarnsOnceWithTheApisWords(int status, string failure, string eventName, string fragment)
    {
        await using var api = await FakeKubernetesApiServer.StartAsync();
        api.FailWith(status);
        var logs = new CapturingLoggerProvider();
        await using var services = Services(api.Configuration, logs: logs);

        var result = await services.GetRequiredService<PodReader>().ReadAsync(CancellationToken.None);

        Assert.Equal(Enum.Parse<PodReadFailure>(failure), result.Failure);
        var warning = Assert.Single(Warnings(logs));
        Assert.Equal(eventName, warning.Id.Name);
        Assert.Contains(fragment, warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_ApiDropsConnections_WarnsUnreachable()
    {
        await using var api = await FakeKubernetesApiServer.StartAsync();
        api.Unavailable = true;
        var logs = new CapturingLoggerProvider();
        await using var services = Services(api.Configuration, logs: logs);

        var result = await services.GetRequiredService<PodReader>().ReadAsync(CancellationToken.None);

        Assert.Equal(PodReadFailure.Unreachable, result.Failure);
        var warning = Assert.Single(Warnings(logs));
        Assert.Equal("KubernetesUnreachable", warning.Id.Name);
        Assert.Contains($"cannot reach the API at {api.RootUrl}", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_ApiHangs_GivesUpAtTheRequestTimeoutOnTheLifecyclesClock()
    {
        await using var api = await FakeKubernetesApiServer.StartAsync();
        using var hold = api.Hold();
        var time = new FakeTimeProvider();
        var logs = new CapturingLoggerProvider();
        await using var services = Services(api.Configuration, logs: logs, time: time);

        var read = services.GetRequiredService<PodReader>().ReadAsync(CancellationToken.None);
        Assert.True(await api.WaitForRequestsAsync(1, TimeSpan.FromSeconds(10)));
        time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.False(read.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(0.1));
        var result = await read.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(PodReadFailure.Unreachable, result.Failure);
        Assert.Contains("no answer within 00:00:05", Assert.Single(Warnings(logs)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ApiServer", "ftp://api", "GracefulLifecycle:Kubernetes:ApiServer must be an absolute https:// URL without a query or credentials, such as https://kubernetes.default.svc (http:// is accepted for a local proxy or a test server) (was 'ftp://api')")]
    [InlineData("PodName", "App_1", "GracefulLifecycle:Kubernetes:PodName must be a Kubernetes name: lower-case letters, digits and '-', '.', starting and ending with a letter or digit, at most 253 characters (was 'App_1')")]
    [InlineData("Namespace", "shop.eu", "GracefulLifecycle:Kubernetes:Namespace must be a Kubernetes name: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters (was 'shop.eu')")]
    [InlineData("RequestTimeout", "00:00:00", "GracefulLifecycle:Kubernetes:RequestTimeout must be greater than zero (was 00:00:00)")]
    [InlineData("OnMismatch", "7", "GracefulLifecycle:Kubernetes:OnMismatch must be one of Fail, Warn (was 7)")]
    public async Task Options_Invalid_FailNamingTheKeyAndTheValue(string key, string value, string message)
    {
        await using var services = Services(new Dictionary<string, string?> { ["GracefulLifecycle:Kubernetes:" + key] = value });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<KubernetesOptions>>().Value);

        Assert.Contains(error.Failures, f => f.StartsWith(message, StringComparison.Ordinal));
    }

    internal static ServiceProvider Services(
        IReadOnlyDictionary<string, string?> settings, KubernetesEnvironment? environment = null, CapturingLoggerProvider? logs = null, TimeProvider? time = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddLogging(b => b.ClearProviders().AddProvider(logs ?? new CapturingLoggerProvider()).SetMinimumLevel(LogLevel.Debug));
        services.AddSingleton(environment ?? new KubernetesEnvironment(_ => null, "/nonexistent/serviceaccount"));
        services.AddSingleton(time ?? TimeProvider.System);
        services.AddGracefulLifecycle().AddKubernetes();
        return services.BuildServiceProvider();
    }

    private static IEnumerable<Microsoft.Extensions.Logging.Testing.FakeLogRecord> Warnings(CapturingLoggerProvider logs) =>
        logs.Collector.GetSnapshot().Where(r => r.Level >= LogLevel.Warning);

    /// <summary>A service account directory as the kubelet mounts it: namespace and ca.crt (the token is the test's business).</summary>
    internal sealed class ServiceAccountDirectory : IDisposable
    {
        public ServiceAccountDirectory(string ns)
        {
            Path = Directory.CreateTempSubdirectory("sa-").FullName;
            File.WriteAllText(System.IO.Path.Combine(Path, "namespace"), ns + "\n");
            File.WriteAllText(System.IO.Path.Combine(Path, "ca.crt"), string.Empty);
        }

        public string Path { get; }

        public KubernetesEnvironment Environment(params (string Name, string Value)[] variables) =>
            new(name => variables.FirstOrDefault(v => v.Name == name).Value, Path);

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
