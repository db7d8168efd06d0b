using Xunit;

namespace GracefulLifecycle.TestSupport.Contract;

/// <summary>A registry server a contract test registers with: a fake, a real one, or a user's own.</summary>
public interface IContractServer : IAsyncDisposable
{
    /// <summary>Gets the URL the registry under test is configured with.</summary>
    Uri Url { get; }

    /// <summary>Gets how many calls from the registry under test the server has received so far.</summary>
    int CallCount { get; }

    /// <summary>Makes the server forget every registered instance, as after an eviction, a lease expiry or a restart.</summary>
    Task ForgetAllAsync();
}

/// <summary>
/// The contract every <see cref="IServiceRegistry"/> keeps, as the lifecycle relies on it. Derive a test class, say how
/// to build the registry against a URL and how to start a server, and every adapter (built-in or written against the
/// public packages only) runs the same tests.
/// </summary>
/// <remarks>
/// Time is faked: a registry must bound its calls on the <see cref="TimeProvider"/> it is given, never on the wall
/// clock, so a test that holds a call can tell the caller's cancellation from the registry's own timeout.
/// </remarks>
public abstract class ServiceRegistryContract : IAsyncDisposable, IAsyncLifetime
{
    private readonly List<IAsyncDisposable> _owned = [];

    /// <summary>Gets the fake clock the registries under test are built on.</summary>
    protected FakeTimeProvider Time { get; } = new();

    /// <summary>Gets the instance the tests register: what the lifecycle would hand over.</summary>
    protected static ServiceInstance Instance { get; } = new(
        "contract-app", "contract-host", "127.0.0.1", new Dictionary<string, int> { ["http"] = 8080 }, "/ifready", "/health");

    /// <summary>
    /// Gets what the lifecycle passes with a deregistration under its default options: 2 s of deregistration timeout less
    /// 500 ms for a call in flight.
    /// </summary>
    protected static DeregistrationContext Deregistration { get; } = new(TimeSpan.FromMilliseconds(1500));

    /// <summary>Builds the registry under test, calling the server at <paramref name="url"/> on <paramref name="time"/>.</summary>
    /// <param name="url">A server's URL: <see cref="IContractServer.Url"/>, or the root of a <see cref="TcpFaultServer"/>.</param>
    /// <param name="time">The clock every call's timeout must run on.</param>
    /// <returns>The registry; dispose what it needs in <see cref="Own{T}"/>.</returns>
    protected abstract IServiceRegistry CreateRegistry(Uri url, TimeProvider time);

    /// <summary>Starts a server the registry under test can register with.</summary>
    protected abstract Task<IContractServer> StartServerAsync();

    /// <summary>Keeps <paramref name="disposable"/> until the test ends.</summary>
    protected T Own<T>(T disposable)
        where T : IAsyncDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }

    [Fact]
    public async Task Contract_DeregisteringAnInstanceTheRegistryDoesNotKnow_Succeeds()
    {
        var server = Own(await StartServerAsync());
        var registry = CreateRegistry(server.Url, Time);
        await registry.RegisterAsync(Instance, CancellationToken.None);
        await server.ForgetAllAsync();

        await registry.DeregisterAsync(Deregistration, CancellationToken.None);
    }

    [Fact]
    public async Task Contract_RenewAfterTheRegistryLostTheInstance_AnswersFalse()
    {
        var server = Own(await StartServerAsync());
        var registry = CreateRegistry(server.Url, Time);
        await registry.RegisterAsync(Instance, CancellationToken.None);
        Assert.True(await registry.RenewAsync(CancellationToken.None));

        await server.ForgetAllAsync();

        Assert.False(await registry.RenewAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Contract_TheCallersCancellation_IsACancellation_NotATimeout()
    {
        var silent = Own(TcpFaultServer.Silent());
        var registry = CreateRegistry(silent.Url, Time);
        using var cancel = new CancellationTokenSource();

        var register = registry.RegisterAsync(Instance, cancel.Token);
        await Eventually.TrueAsync(() => silent.Accepted > 0, "the registration reached the server");
        Assert.False(register.IsCompleted);
        await cancel.CancelAsync();

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => register.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.IsAssignableFrom<OperationCanceledException>(failure);
    }

    [Fact]
    public async Task Contract_NoAnswerWithinTheRegistrysTimeout_IsATimeout()
    {
        var silent = Own(TcpFaultServer.Silent());
        var registry = CreateRegistry(silent.Url, Time);

        var register = registry.RegisterAsync(Instance, CancellationToken.None);
        await Eventually.TrueAsync(() => silent.Accepted > 0, "the registration reached the server");
        await Time.AdvanceUntilAsync(() => register.IsCompleted, "the registry's own timeout");

        await Assert.ThrowsAsync<TimeoutException>(() => register);
    }

    [Fact]
    public async Task Contract_AConnectionReset_IsAConnectionError()
    {
        var resetting = Own(TcpFaultServer.Resetting());
        var registry = CreateRegistry(resetting.Url, Time);

        var failure = await Assert.ThrowsAsync<HttpRequestException>(() => registry.RegisterAsync(Instance, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal(HttpRequestError.ConnectionError, failure.HttpRequestError);
    }

    [Fact]
    public async Task Contract_AfterDeregistration_NothingIsSent_AndARenewalAnswersFalse()
    {
        var server = Own(await StartServerAsync());
        var registry = CreateRegistry(server.Url, Time);
        await registry.RegisterAsync(Instance, CancellationToken.None);
        await registry.DeregisterAsync(Deregistration, CancellationToken.None);
        var calls = server.CallCount;

        // The lifecycle never renews after leaving; a registry must not send anything if asked anyway: a late
        // heartbeat would register the instance again (spring-cloud-netflix#1543).
        Assert.False(await registry.RenewAsync(CancellationToken.None));
        await registry.DeregisterAsync(Deregistration, CancellationToken.None);

        Assert.Equal(calls, server.CallCount);
    }

    [Fact]
    public async Task Contract_ThePropagationDelay_IsKnownBeforeRegistering_WithoutACall_AndStaysTheSame()
    {
        var server = Own(await StartServerAsync());
        var registry = CreateRegistry(server.Url, Time);

        // The shutdown plan reads it at startup, before any registration, and checks the budget with it.
        var before = registry.PropagationDelay;
        var visibility = registry.VisibilityDelay;
        Assert.Equal(0, server.CallCount);
        Assert.All(before.Terms, t => Assert.False(string.IsNullOrWhiteSpace(t.Source)));
        Assert.Equal(before.Terms.Aggregate(TimeSpan.Zero, (sum, t) => sum + t.Duration), before.Total);
        Assert.True(visibility >= TimeSpan.Zero);

        await registry.RegisterAsync(Instance, CancellationToken.None);
        await registry.DeregisterAsync(Deregistration, CancellationToken.None);

        Assert.Equal(before.ToString(), registry.PropagationDelay.ToString());
        Assert.Equal(before.Total, registry.PropagationDelay.Total);
    }

    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    // xUnit v2 disposes a test class through IDisposable or IAsyncLifetime only, never IAsyncDisposable: without this,
    // every server a contract test started (a real etcd among them) outlived the test run.
    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}
