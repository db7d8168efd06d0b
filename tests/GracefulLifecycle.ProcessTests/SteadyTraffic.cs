using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace GracefulLifecycle.ProcessTests;

/// <summary>
/// One client calling <c>GET /</c> every <see cref="Interval"/>, as a consumer with a stale registry cache keeps
/// doing, until the instance refuses a connection or the deadline passes. Records when each attempt started and how
/// it ended.
/// </summary>
/// <remarks>
/// The pace matters: during Leaving every response closes its connection, and a client opening connections back to
/// back (thousands a second) goes through the ephemeral ports fast enough to meet TIME_WAIT leftovers of its own
/// earlier connections. A SYN that is not answered at once is sent again only after a second, which then looks like a
/// request the instance left unanswered.
/// </remarks>
internal sealed class SteadyTraffic : IAsyncDisposable
{
    /// <summary>The time between the starts of two requests (a request that takes longer delays the next).</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(2);

    private readonly ConcurrentQueue<Attempt> _attempts = new();
    private readonly CancellationTokenSource _stop;
    private readonly Stopwatch _clock;
    private readonly TimeSpan _deadline;
    private readonly Task _loop;

    private SteadyTraffic(HttpClient client, Uri target, Stopwatch clock, TimeSpan deadline)
    {
        _clock = clock;
        _deadline = deadline;
        _stop = new CancellationTokenSource(deadline);
        _loop = Task.Run(() => RunAsync(client, target));
    }

    /// <summary>Gets the requests that got an HTTP answer, with their status codes.</summary>
    public IReadOnlyList<Attempt> Answers => [.. _attempts.Where(a => a.Code is not null)];

    /// <summary>
    /// Gets when the first request that got no answer started (refused, reset or timed out), on the clock given at the
    /// start, if one did: the moment the instance stopped serving. A connection the kernel had queued when the
    /// listener closed is reset rather than refused.
    /// </summary>
    public Attempt? FirstUnanswered => _attempts.FirstOrDefault(a => a.Code is null);

    /// <summary>
    /// Asserts what a client must see while an instance serves through its delay: every answer is 200, and the first
    /// request without an answer was sent at least <paramref name="delay"/> after <paramref name="signalledAt"/>.
    /// </summary>
    /// <returns>The first request without an answer, and when it was sent after the signal.</returns>
    public (Attempt Unanswered, TimeSpan SentAfterSignal) AssertServedThrough(TimeSpan signalledAt, TimeSpan delay, string what)
    {
        Assert.All(Answers, a => Assert.Equal(HttpStatusCode.OK, a.Code));
        var unanswered = Assert.IsType<Attempt>(FirstUnanswered);
        var sent = unanswered.StartedAt - signalledAt;
        Assert.True(
            sent >= delay,
            $"a request sent {sent.TotalMilliseconds} ms after SIGTERM, inside the {delay} {what}, got no answer: {unanswered}");
        return (unanswered, sent);
    }

    public static SteadyTraffic Start(HttpClient client, Uri baseAddress, Stopwatch clock, TimeSpan deadline) =>
        new(client, new Uri(baseAddress, "/"), clock, deadline);

    /// <summary>Waits, bounded by the deadline given at the start, for a connection to be refused.</summary>
    public Task UntilRefusedAsync() => _loop.WaitAsync(_deadline);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private async Task RunAsync(HttpClient client, Uri target)
    {
        using var pace = new PeriodicTimer(Interval);
        while (!_stop.IsCancellationRequested)
        {
            var startedAt = _clock.Elapsed;
            try
            {
                using var response = await client.GetAsync(target, _stop.Token);
                _attempts.Enqueue(new Attempt(startedAt, _clock.Elapsed, response.StatusCode, Refused: false, Error: null));
            }
            catch (HttpRequestException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
            {
                _attempts.Enqueue(new Attempt(startedAt, _clock.Elapsed, null, Refused: true, Error: null));
                return;
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException or SocketException)
            {
                // A reset or the client's own timeout: a request lost while the instance was still listening. A
                // connection reset before the client read its remote end point escapes as a bare SocketException.
                _attempts.Enqueue(new Attempt(startedAt, _clock.Elapsed, null, Refused: false, Error: Describe(e)));
            }

            try
            {
                await pace.WaitForNextTickAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static string Describe(Exception e) =>
        e.InnerException is null ? $"{e.GetType().Name}: {e.Message}" : $"{e.GetType().Name}: {e.Message} <- {Describe(e.InnerException)}";

    /// <summary>One request: when it started and ended, its status code if it got one, or how it failed.</summary>
    internal sealed record Attempt(TimeSpan StartedAt, TimeSpan EndedAt, HttpStatusCode? Code, bool Refused, string? Error);
}
