using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.TestSupport;

/// <summary>
/// The base of the in-repo fakes of registry servers (Eureka, Consul): real Kestrel on a loopback port, so the
/// adapters' HTTP calls, failover and timeouts are real; every call recorded in arrival order, with a wait on the
/// calls that wakes when one arrives or is answered; stop (the port refuses connections from then on) and dispose.
/// </summary>
/// <typeparam name="TCall">The fake's record of one call.</typeparam>
public abstract class FakeRegistryServer<TCall> : IAsyncDisposable
    where TCall : class
{
    private readonly List<TCall> _calls = [];
    private WebApplication? _app;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Gets the root URL the server listens on, such as <c>http://127.0.0.1:40123/</c>.</summary>
    public Uri RootUrl { get; private set; } = null!;

    /// <summary>Gets every call received so far, in arrival order.</summary>
    public IReadOnlyList<TCall> Calls
    {
        get
        {
            lock (Gate)
            {
                return [.. _calls];
            }
        }
    }

    /// <summary>Gets the lock that guards the calls and the fake's own state.</summary>
    protected Lock Gate { get; } = new();

    /// <summary>Waits until the calls received satisfy <paramref name="condition"/>; false when the deadline passes first.</summary>
    public async Task<bool> WaitForCallsAsync(Func<IReadOnlyList<TCall>, bool> condition, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            Task changed;
            lock (Gate)
            {
                if (condition(_calls))
                {
                    return true;
                }

                changed = _changed.Task;
            }

            var left = timeout - deadline.Elapsed;
            if (left <= TimeSpan.Zero || await Task.WhenAny(changed, Task.Delay(left)) != changed)
            {
                lock (Gate)
                {
                    return condition(_calls);
                }
            }
        }
    }

    /// <summary>Stops listening: the port refuses connections from now on. Idempotent.</summary>
    public async Task StopAsync()
    {
        if (_app is not { } app)
        {
            return;
        }

        _app = null;
        await OnStoppingAsync();
        await app.StopAsync();
        await app.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await OnDisposedAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>Starts the server on 127.0.0.1 at a port the OS picks, or <paramref name="port"/>.</summary>
    protected async Task StartServerAsync(int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        var app = builder.Build();
        Map(app);
        await app.StartAsync();
        _app = app;
        RootUrl = new Uri(app.Urls.First() + "/");
    }

    /// <summary>Maps the fake's endpoints (and its recording middleware).</summary>
    protected abstract void Map(WebApplication app);

    /// <summary>Records a call, made by <paramref name="create"/> from its zero-based sequence number. Call under <see cref="Gate"/>.</summary>
    protected TCall RecordLocked(Func<int, TCall> create)
    {
        var call = create(_calls.Count);
        _calls.Add(call);
        NotifyLocked();
        return call;
    }

    /// <summary>Wakes the waits on the calls (a call was answered, say). Call under <see cref="Gate"/>.</summary>
    protected void NotifyLocked()
    {
        _changed.TrySetResult();
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Runs before the server stops: release held calls, stop timers.</summary>
    protected virtual Task OnStoppingAsync() => Task.CompletedTask;

    /// <summary>Runs once the server is stopped, when it is disposed.</summary>
    protected virtual ValueTask OnDisposedAsync() => ValueTask.CompletedTask;
}
