using System.Diagnostics;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.TestSupport;

/// <summary>
/// The base of the in-repo fakes of registry servers (Eureka, Consul, the webhook sample's): real Kestrel on a
/// loopback port, so the adapters' HTTP calls, failover and timeouts are real, and one set of controls with one name
/// each, so a test reads the same whichever registry it drives.
/// </summary>
/// <remarks>
/// <para>Every call is recorded in arrival order (<see cref="Calls"/>), then, in this order: <see cref="OnCall"/> runs,
/// the <see cref="Hold"/>s that match it keep it waiting, <see cref="FailWith"/> answers it with an injected status,
/// and otherwise the fake's own endpoints answer it. <see cref="Unavailable"/> drops connections before any of this.
/// Waits (<see cref="WaitForCallsAsync"/>, <see cref="WaitForAnsweredCallAsync"/>) wake when a call arrives or is
/// answered, never on a sleep.</para>
/// <para>What a registry does with its instances stays in the subclass: its endpoints, and <see cref="Forget"/>, the
/// registry losing an instance (Eureka's eviction, a Consul agent restarted without its state).</para>
/// </remarks>
/// <typeparam name="TCall">The fake's record of one call.</typeparam>
public abstract class FakeRegistryServer<TCall> : IAsyncDisposable
    where TCall : RegistryCall
{
    private const string BodyKey = "body";

    private readonly List<TCall> _calls = [];
    private readonly List<(Func<TCall, bool> Match, TaskCompletionSource Release)> _holds = [];
    private CancellationTokenSource _stopping = new();
    private WebApplication? _app;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int? _failWith;
    private int _refused;
    private volatile bool _unavailable;

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

    /// <summary>
    /// Gets or sets a value indicating whether the server is down while its port stays open: every connection is
    /// dropped without an answer and nothing is recorded in <see cref="Calls"/> (see <see cref="RefusedCount"/>).
    /// </summary>
    public bool Unavailable
    {
        get => _unavailable;
        set => _unavailable = value;
    }

    /// <summary>Gets how many calls were dropped while <see cref="Unavailable"/>.</summary>
    public int RefusedCount => Volatile.Read(ref _refused);

    /// <summary>Gets or sets a hook run when a call arrives, after it is recorded and before it is held or answered.</summary>
    public Func<TCall, Task>? OnCall { get; set; }

    /// <summary>Gets the lock that guards the calls and the fake's own state.</summary>
    protected Lock Gate { get; } = new();

    /// <summary>Gets the calls whose method is <paramref name="method"/> and whose path starts with <paramref name="pathPrefix"/>.</summary>
    public IReadOnlyList<TCall> CallsTo(string method, string pathPrefix = "") =>
        Calls.Where(c => c.Is(method, pathPrefix)).ToArray();

    /// <summary>
    /// Holds every call <paramref name="match"/> accepts (every call when null) from now on, after recording it and
    /// without answering, until the returned handle is disposed: a slow or hung server. A held call is dropped when
    /// its caller gives up or the server stops.
    /// </summary>
    public IDisposable Hold(Func<TCall, bool>? match = null)
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (Gate)
        {
            _holds.Add((match ?? (static _ => true), release));
        }

        return new Releaser(this, release);
    }

    /// <summary>Answers every call from now on with <paramref name="statusCode"/>, or normally again when null.</summary>
    public void FailWith(int? statusCode)
    {
        lock (Gate)
        {
            _failWith = statusCode;
        }
    }

    /// <summary>
    /// Makes the registry lose the instance <paramref name="id"/> without a call, as an eviction, an expired lease or a
    /// restart without state does: its next renewal must then say it is unknown.
    /// </summary>
    /// <returns>True when the instance was known.</returns>
    public abstract bool Forget(string id);

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

    /// <summary>Waits until a call satisfying <paramref name="match"/> has been answered, and returns it.</summary>
    /// <exception cref="TimeoutException">No such call was answered within <paramref name="timeout"/> (10 s by default); the message names <paramref name="what"/>.</exception>
    public async Task<TCall> WaitForAnsweredCallAsync(Func<TCall, bool> match, string what, TimeSpan? timeout = null)
    {
        TCall? found = null;
        var ok = await WaitForCallsAsync(
            calls =>
            {
                found = calls.FirstOrDefault(c => match(c) && c.IsAnswered);
                return found is not null;
            },
            timeout ?? TimeSpan.FromSeconds(10));
        return ok && found is not null
            ? found
            : throw new TimeoutException($"Timed out waiting for the {GetType().Name} to answer: {what}. Calls: {string.Join(", ", Calls)}");
    }

    /// <summary>Stops listening: held calls are dropped and the port refuses connections from now on. Idempotent.</summary>
    public async Task StopAsync()
    {
        if (_app is not { } app)
        {
            return;
        }

        _app = null;
        await _stopping.CancelAsync();
        await OnStoppingAsync();
        await app.StopAsync();
        await app.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await OnDisposedAsync();
        _stopping.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// Starts the server again after <see cref="StopAsync"/>, on the same port and with the registry's state kept: a
    /// registry that crashed and came back.
    /// </summary>
    public async Task RestartAsync()
    {
        if (_app is not null)
        {
            throw new InvalidOperationException("The server is running; stop it first.");
        }

        _stopping.Dispose();
        _stopping = new CancellationTokenSource();
        await StartServerAsync(RootUrl.Port);
    }

    /// <summary>Starts the server on 127.0.0.1 at a port the OS picks, or <paramref name="port"/>.</summary>
    protected async Task StartServerAsync(int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        var app = builder.Build();
        app.Use(RecordAsync);
        Map(app);
        await app.StartAsync();
        _app = app;
        RootUrl = new Uri(app.Urls.First() + "/");
    }

    /// <summary>Maps the fake's endpoints. The recording, holds and injected failures run before them.</summary>
    protected abstract void Map(WebApplication app);

    /// <summary>Makes the record of a call; <paramref name="sequence"/> is its index in <see cref="Calls"/>.</summary>
    protected abstract TCall CreateCall(int sequence, HttpContext context, string body, long arrivedAt);

    /// <summary>Tells whether a request is a registry call (recorded, held, failed) or a helper endpoint of the fake's own.</summary>
    protected virtual bool IsRegistryCall(HttpContext context) => true;

    /// <summary>Gets the body of the call being answered, read once by the recording.</summary>
    protected static string BodyOf(HttpContext context) => context.Items[BodyKey] as string ?? string.Empty;

    /// <summary>Wakes the waits on the calls. Call under <see cref="Gate"/>.</summary>
    protected void NotifyLocked()
    {
        _changed.TrySetResult();
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Runs before the server stops (held calls are already being dropped): stop timers.</summary>
    protected virtual Task OnStoppingAsync() => Task.CompletedTask;

    /// <summary>Runs once the server is stopped, when it is disposed.</summary>
    protected virtual ValueTask OnDisposedAsync() => ValueTask.CompletedTask;

    private async Task RecordAsync(HttpContext context, RequestDelegate next)
    {
        if (!IsRegistryCall(context))
        {
            await next(context);
            return;
        }

        if (_unavailable)
        {
            Interlocked.Increment(ref _refused);
            context.Abort();
            return;
        }

        var arrived = Stopwatch.GetTimestamp();
        string body;
        using (var reader = new StreamReader(context.Request.Body, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync(context.RequestAborted);
        }

        context.Items[BodyKey] = body;
        TCall call;
        Task[] holds;
        int? failWith;
        lock (Gate)
        {
            call = CreateCall(_calls.Count, context, body, arrived);
            _calls.Add(call);
            holds = _holds.Where(h => h.Match(call)).Select(h => h.Release.Task).ToArray();
            failWith = _failWith;
            NotifyLocked();
        }

        var dropped = false;
        try
        {
            if (OnCall is { } onCall)
            {
                await onCall(call);
            }

            if (holds.Length > 0)
            {
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
                try
                {
                    await Task.WhenAll(holds).WaitAsync(stop.Token);
                }
                catch (OperationCanceledException)
                {
                    // The caller gave up or the server is stopping: a hung server never answers.
                    dropped = true;
                    context.Abort();
                    return;
                }
            }

            if (failWith is { } status)
            {
                context.Response.StatusCode = status;
                context.Response.ContentType = "text/plain";
                await context.Response.WriteAsync($"injected failure {status}", context.RequestAborted);
                return;
            }

            await next(context);
        }
        finally
        {
            lock (Gate)
            {
                call.StatusCode = dropped || context.RequestAborted.IsCancellationRequested ? -1 : context.Response.StatusCode;
                NotifyLocked();
            }
        }
    }

    private sealed class Releaser(FakeRegistryServer<TCall> owner, TaskCompletionSource release) : IDisposable
    {
        public void Dispose()
        {
            lock (owner.Gate)
            {
                owner._holds.RemoveAll(h => h.Release == release);
            }

            release.TrySetResult();
        }
    }
}
