using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace GracefulLifecycle.Drill;

/// <summary>
/// SignalR clients on <c>/hub</c> as an app writes them: the real client with automatic reconnect (fast retries),
/// each invoking <c>Echo</c> every 100 ms. An invocation that fails is retried once, after the client has reconnected;
/// only one that fails again is a failure a user would see. WebSockets only and no negotiation, so that each
/// connection is one TCP connection that HAProxy in tcp mode puts on one replica (a negotiate could land on another).
/// </summary>
internal sealed class SignalRLoad(int clients) : IDrillLoad
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<EchoCaller> _callers = [];
    private readonly List<Task> _running = [];
    private readonly Counters _counters = new();
    private bool _disposed;

    public async Task StartAsync(Uri target)
    {
        var url = new Uri(target, "hub");
        for (var i = 0; i < clients; i++)
        {
            _callers.Add(new EchoCaller(i, url, _counters));
        }

        // The load runs once every client is connected, so the rollout starts with all of them on a replica.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        await Task.WhenAll(_callers.Select(c => c.StartAsync(timeout.Token)));
        foreach (var caller in _callers)
        {
            _running.Add(Task.Run(() => caller.RunAsync(_stop.Token)));
        }
    }

    public async Task StopAsync()
    {
        // Each client finishes the invocation it has in flight, its retry included (both bounded), then stops.
        await _stop.CancelAsync();
        await Task.WhenAll(_running);
        await Task.WhenAll(_callers.Select(c => c.StopAsync()));
    }

    /// <summary>The counts so far; final once <see cref="StopAsync"/> has returned.</summary>
    public SignalRCounts Counts() => new(
        clients,
        Volatile.Read(ref _counters.Invocations),
        Volatile.Read(ref _counters.Answered),
        Volatile.Read(ref _counters.FirstTryFailures),
        Volatile.Read(ref _counters.AnsweredOnRetry),
        Volatile.Read(ref _counters.Failed),
        Volatile.Read(ref _counters.Reconnecting),
        Volatile.Read(ref _counters.AbnormalLosses),
        Volatile.Read(ref _counters.Reconnected),
        Volatile.Read(ref _counters.Closes),
        Volatile.Read(ref _counters.Restarts),
        [.. _counters.Losses]);

    /// <summary>Every reason a connection was lost or an invocation failed, with its count, for the log.</summary>
    public IEnumerable<string> Details() =>
        _counters.Kinds.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => string.Create(CultureInfo.InvariantCulture, $"{k.Value,6}  {k.Key}"));

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _stop.CancelAsync();
        await Task.WhenAll(_running);
        foreach (var caller in _callers)
        {
            await caller.DisposeAsync();
        }

        _stop.Dispose();
    }

    private static string Describe(Exception? error)
    {
        if (error is null)
        {
            return "no error";
        }

        var message = error.Message.ReplaceLineEndings(" ");
        return $"{error.GetType().Name}: {(message.Length > 120 ? message[..120] + "..." : message)}";
    }

    /// <summary>Shared by every client; fields for <see cref="Interlocked"/>.</summary>
    private sealed class Counters
    {
#pragma warning disable SA1401, CA1051 // Fields, so that Interlocked can update them.
        public long Invocations;
        public long Answered;
        public long FirstTryFailures;
        public long AnsweredOnRetry;
        public long Failed;
        public long Reconnecting;
        public long AbnormalLosses;
        public long Reconnected;
        public long Closes;
        public long Restarts;
#pragma warning restore SA1401, CA1051

        public ConcurrentDictionary<string, long> Kinds { get; } = new(StringComparer.Ordinal);

        /// <summary>Gets when each connection was lost, as <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/> values.</summary>
        public ConcurrentQueue<long> Losses { get; } = new();

        public void Count(string kind) => Kinds.AddOrUpdate(kind, 1, (_, n) => n + 1);
    }

    /// <summary>Retries at once, then every 100 ms, for up to a minute: a rollout always has a replica to reconnect to.</summary>
    private sealed class FastRetry : IRetryPolicy
    {
        public TimeSpan? NextRetryDelay(RetryContext retryContext) =>
            retryContext.ElapsedTime > TimeSpan.FromMinutes(1) ? null
            : retryContext.PreviousRetryCount == 0 ? TimeSpan.Zero
            : TimeSpan.FromMilliseconds(100);
    }

    /// <summary>One client: its hub connection and its loop of invocations.</summary>
    private sealed class EchoCaller : IAsyncDisposable
    {
        private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(100);

        /// <summary>How long one invocation may take before it counts as failed.</summary>
        private static readonly TimeSpan InvocationTimeout = TimeSpan.FromSeconds(10);

        /// <summary>How long a failed invocation waits for the client to reconnect before its one retry.</summary>
        private static readonly TimeSpan ReconnectWait = TimeSpan.FromSeconds(10);

        private readonly int _id;
        private readonly HubConnection _connection;
        private readonly Counters _counters;
        private readonly CancellationTokenSource _stopping = new();

        /// <summary>Completed when the client is next connected again; replaced each time.</summary>
        private TaskCompletionSource _nextConnection = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public EchoCaller(int id, Uri url, Counters counters)
        {
            _id = id;
            _counters = counters;
            _connection = new HubConnectionBuilder()
                .WithUrl(url, HttpTransportType.WebSockets, options => options.SkipNegotiation = true)
                .WithAutomaticReconnect(new FastRetry())
                .Build();
            _connection.Reconnecting += error =>
            {
                Interlocked.Increment(ref _counters.Reconnecting);
                CountLoss(error);
                _counters.Count($"connection lost, reconnecting: {Describe(error)}");
                return Task.CompletedTask;
            };
            _connection.Reconnected += _ =>
            {
                Interlocked.Increment(ref _counters.Reconnected);
                Connected();
                return Task.CompletedTask;
            };
            _connection.Closed += async error =>
            {
                if (_stopping.IsCancellationRequested)
                {
                    return;
                }

                // Automatic reconnect gave up, or the server closed without allowing a reconnect: an app starts
                // the connection again itself.
                Interlocked.Increment(ref _counters.Closes);
                CountLoss(error);
                _counters.Count($"connection closed: {Describe(error)}");
                await RestartAsync();
            };
        }

        public async Task StartAsync(CancellationToken cancellationToken)
        {
            await _connection.StartAsync(cancellationToken);
            Connected();
        }

        public async Task RunAsync(CancellationToken stop)
        {
            using var timer = new PeriodicTimer(Period);
            for (long number = 0; !stop.IsCancellationRequested; number++)
            {
                var message = string.Create(CultureInfo.InvariantCulture, $"{_id} {number}");
                Interlocked.Increment(ref _counters.Invocations);

                // Taken before the call: a connection lost under it completes this when the client is back.
                var reconnected = Volatile.Read(ref _nextConnection).Task;
                var error = await EchoAsync(message);
                if (error is null)
                {
                    Interlocked.Increment(ref _counters.Answered);
                }
                else
                {
                    Interlocked.Increment(ref _counters.FirstTryFailures);
                    _counters.Count($"invocation failed, retried after reconnect: {error}");
                    try
                    {
                        await reconnected.WaitAsync(ReconnectWait, CancellationToken.None);
                    }
                    catch (TimeoutException)
                    {
                        // Still not reconnected (or the failure did not lose the connection): retry all the same.
                    }

                    error = await EchoAsync(message);
                    if (error is null)
                    {
                        Interlocked.Increment(ref _counters.AnsweredOnRetry);
                    }
                    else
                    {
                        Interlocked.Increment(ref _counters.Failed);
                        _counters.Count($"invocation failed again on its retry: {error}");
                    }
                }

                try
                {
                    await timer.WaitForNextTickAsync(stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }

        public async Task StopAsync()
        {
            await _stopping.CancelAsync();
            try
            {
                await _connection.StopAsync();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The run is over; how the last connection ended does not count.
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stopping.CancelAsync();
            await _connection.DisposeAsync();
            _stopping.Dispose();
        }

        /// <returns>Null when the echo came back right, else what went wrong.</returns>
        private async Task<string?> EchoAsync(string message)
        {
            try
            {
                // Its own timeout, not the run's stop: an invocation in flight at the end is finished, not cancelled.
                using var timeout = new CancellationTokenSource(InvocationTimeout);
                var echo = await _connection.InvokeAsync<string>("Echo", message, timeout.Token);
                return echo == message ? null : $"wrong echo '{echo}'";
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                return Describe(ex);
            }
        }

        private async Task RestartAsync()
        {
            // Bounded by the run: the stop ends it.
            while (!_stopping.IsCancellationRequested)
            {
                try
                {
                    await _connection.StartAsync(_stopping.Token);
                    Interlocked.Increment(ref _counters.Restarts);
                    Connected();
                    return;
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    _counters.Count($"restart failed: {Describe(ex)}");
                }

                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100), _stopping.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }

        /// <summary>
        /// A connection the server ended with a close handshake comes with no error, or (WebSocket closed with another
        /// status than 1000) with the client's InvalidOperationException naming that status, or with the server's
        /// close message error. One that broke (no close frame, a reset, silence past the server timeout) comes with
        /// the transport's exception: that is an abnormal loss.
        /// </summary>
        private void CountLoss(Exception? error)
        {
            _counters.Losses.Enqueue(System.Diagnostics.Stopwatch.GetTimestamp());
            for (var e = error; e is not null; e = e.InnerException)
            {
                if (e is System.Net.WebSockets.WebSocketException or IOException or System.Net.Sockets.SocketException or TimeoutException)
                {
                    Interlocked.Increment(ref _counters.AbnormalLosses);
                    return;
                }
            }
        }

        private void Connected() =>
            Interlocked.Exchange(ref _nextConnection, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }
}

/// <summary>What the SignalR clients counted through a run.</summary>
/// <param name="Clients">The number of clients.</param>
/// <param name="Invocations">Invocations of <c>Echo</c>, each counted once, its retry not included.</param>
/// <param name="Answered">Invocations answered right on the first try.</param>
/// <param name="FirstTryFailures">Invocations whose first try failed, each retried once after a reconnect.</param>
/// <param name="AnsweredOnRetry">Invocations answered right on their retry.</param>
/// <param name="Failed">Invocations that failed on their retry too: what a user would see.</param>
/// <param name="Reconnecting">Connections lost, each followed by automatic reconnect.</param>
/// <param name="AbnormalLosses">Connections lost (reconnecting or closed) that broke: no close frame, a reset, or the server timeout.</param>
/// <param name="Reconnected">Automatic reconnects that succeeded.</param>
/// <param name="Closes">Connections closed for good (reconnect gave up or was not allowed), then started again.</param>
/// <param name="Restarts">Connections started again after such a close.</param>
/// <param name="Losses">When each connection was lost (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>).</param>
internal sealed record SignalRCounts(
    int Clients,
    long Invocations,
    long Answered,
    long FirstTryFailures,
    long AnsweredOnRetry,
    long Failed,
    long Reconnecting,
    long AbnormalLosses,
    long Reconnected,
    long Closes,
    long Restarts,
    IReadOnlyCollection<long> Losses);
