using System.Net;
using Microsoft.Extensions.Primitives;

namespace GracefulLifecycle.Discovery;

/// <summary>The adapter's log lines for a feed, so they carry the adapter's own event ids.</summary>
internal sealed class EndpointFeedLog
{
    /// <summary>(service, reason, retry in ms, instances kept): the registry could not be read; the last list is kept. Warning, once per outage.</summary>
    public required Action<string, string, long, int> Unreachable { get; init; }

    /// <summary>(service, instances): the registry answered again after an outage. Information.</summary>
    public required Action<string, int> Reconnected { get; init; }

    /// <summary>(service, instances): the list changed and the change token fired. Debug.</summary>
    public required Action<string, int> Changed { get; init; }
}

/// <summary>
/// The instances of one service as a registry shows them, kept current by a session the adapter writes (a watch, a
/// blocking query, a poll) and read by the resolver's providers. The shape every adapter's provider shares: the
/// adapter's session publishes whole lists; this class keeps the last one, fires the change token when it differs,
/// and runs the session again with backoff when it fails. An outage never empties the list: only an answer from the
/// registry does.
/// </summary>
internal abstract class EndpointFeed : IAsyncDisposable
{
    /// <summary>The most of a registry's answer read for one service's list (the registration calls read at most 64 KiB).</summary>
    internal const int MaxListBytes = 4 * 1024 * 1024;

    /// <summary>The first wait before a failed session runs again; it doubles on each failure in a row.</summary>
    internal static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest wait between two sessions while the registry cannot be read.</summary>
    internal static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    private readonly object _lock = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly EndpointFeedLog _log;
    private TaskCompletionSource _firstOutcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource _changed = new();
    private EndPoint[]? _endpoints;
    private Exception? _lastError;
    private Task _loop = Task.CompletedTask;
    private bool _unreachable;
    private bool _publishedThisSession;

    protected EndpointFeed(string serviceName, TimeProvider time, EndpointFeedLog log)
    {
        ServiceName = serviceName;
        Time = time;
        _log = log;
    }

    /// <summary>Gets the service name the feed follows.</summary>
    public string ServiceName { get; }

    /// <summary>Gets the clock of the retry waits and of the adapter's polls.</summary>
    protected TimeProvider Time { get; }

    /// <summary>Starts the sessions in the background.</summary>
    public void Start()
    {
        // The sessions outlive the call that created the feed: no ambient context (activity, culture) flows into them.
        using (ExecutionContext.SuppressFlow())
        {
            _loop = Task.Run(RunAsync);
        }
    }

    /// <summary>
    /// Returns the last list and a change token that fires when the next one differs; waits for the first answer, and
    /// throws the failure when the registry could not be read before any list was known.
    /// </summary>
    public async ValueTask<(IReadOnlyList<EndPoint> Endpoints, IChangeToken Changed)> GetAsync(CancellationToken cancellationToken)
    {
        Task first;
        lock (_lock)
        {
            if (_endpoints is { } known)
            {
                return (known, new CancellationChangeToken(_changed.Token));
            }

            // Not read yet because the registry failed: say so at once rather than hold the caller through an outage.
            if (_lastError is not null)
            {
                throw NotReadYet();
            }

            first = _firstOutcome.Task;
        }

        await first.WaitAsync(cancellationToken).ConfigureAwait(false);
        lock (_lock)
        {
            if (_endpoints is { } known)
            {
                return (known, new CancellationChangeToken(_changed.Token));
            }

            throw NotReadYet();
        }
    }

    private HttpRequestException NotReadYet() => new(
        HttpRequestError.ConnectionError,
        $"The instances of '{ServiceName}' could not be read from the registry yet (it is retried in the background): {_lastError?.Message}",
        _lastError);

    /// <summary>
    /// Runs one session: reads the whole list, publishes it, then follows the changes (publishing each new list)
    /// until the registry fails or the feed stops. Returning ends the session like a failure does: it runs again.
    /// </summary>
    protected abstract Task RunSessionAsync(CancellationToken cancellationToken);

    /// <summary>Publishes what the registry answered: the whole current list of the service.</summary>
    protected void Publish(IEnumerable<EndPoint> endpoints)
    {
        var list = endpoints.Distinct().ToArray();
        CancellationTokenSource? fired = null;
        bool reconnected;
        lock (_lock)
        {
            reconnected = _unreachable;
            _unreachable = false;
            _publishedThisSession = true;
            var first = _endpoints is null;
            if (first || !SameSet(_endpoints!, list))
            {
                _endpoints = list;
                if (!first)
                {
                    fired = _changed;
                    _changed = new CancellationTokenSource();
                }
            }

            _firstOutcome.TrySetResult();
        }

        if (reconnected)
        {
            _log.Reconnected(ServiceName, list.Length);
        }

        if (fired is not null)
        {
            _log.Changed(ServiceName, list.Length);

            // Outside the lock: the resolver's callback runs here and reads the feed again.
            fired.Cancel();
            fired.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
        CancellationTokenSource changed;
        lock (_lock)
        {
            changed = _changed;
        }

        // The last token handed out fires: its holder must learn that nobody follows this list any more. The resolver
        // retires the watcher of a name not asked for in 10-20 s, which disposes this feed, and YARP asks again only
        // when the token fires: without it a gateway keeps its last list for good. Asking again starts a new feed.
        // Outside the lock, as the holders' callbacks run on this thread.
        changed.Cancel();
        changed.Dispose();
        GC.SuppressFinalize(this);
    }

    private static bool SameSet(EndPoint[] a, EndPoint[] b) => a.Length == b.Length && a.All(b.Contains);

    private async Task RunAsync()
    {
        var stop = _stop.Token;
        var delay = FirstRetryDelay;
        while (!stop.IsCancellationRequested)
        {
            Exception? failure = null;
            lock (_lock)
            {
                _publishedThisSession = false;
            }

            try
            {
                await RunSessionAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                failure = ex;
            }

            bool logIt;
            int kept;
            lock (_lock)
            {
                // A session that got as far as an answer starts the backoff again.
                if (_publishedThisSession)
                {
                    delay = FirstRetryDelay;
                }

                _lastError = failure ?? _lastError;
                logIt = failure is not null && !_unreachable;
                _unreachable |= failure is not null;
                kept = _endpoints?.Length ?? 0;
                if (_endpoints is null && failure is not null)
                {
                    // Callers waiting for the first list get the failure; the next ones wait for the next attempt.
                    var waiting = _firstOutcome;
                    _firstOutcome = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    waiting.TrySetResult();
                }
            }

            if (logIt)
            {
                _log.Unreachable(ServiceName, failure!.Message, (long)delay.TotalMilliseconds, kept);
            }

            try
            {
                await Task.Delay(delay, Time, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
        }
    }
}
