using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace GracefulLifecycle.ProcessTests;

/// <summary>
/// One client calling <c>GET /</c> every <see cref="Interval"/>, as a consumer with a stale registry cache keeps
/// doing, until the instance refuses a connection or the deadline passes. Records when each attempt started, when it
/// opened its connection, and how it ended.
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

    private static readonly HttpRequestOptionsKey<TimeSpan> ConnectingAt = new("steady-traffic-connecting-at");

    private readonly ConcurrentQueue<Attempt> _attempts = new();
    private readonly HttpClient _client;
    private readonly CancellationTokenSource _stop;
    private readonly Stopwatch _clock;
    private readonly TimeSpan _deadline;
    private readonly Task _loop;

    private SteadyTraffic(Uri target, Stopwatch clock, TimeSpan deadline)
    {
        _clock = clock;
        _deadline = deadline;
        _stop = new CancellationTokenSource(deadline);

        // The moment the connection is opened, not the moment the request was handed to the client: a pause of this
        // process in between (seen once: 540 ms on a busy 2-core runner) sends the SYN after the listener closed, and
        // the refusal then says nothing about the delay.
        _client = new HttpClient(new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            ConnectCallback = async (context, token) =>
            {
                context.InitialRequestMessage.Options.Set(ConnectingAt, _clock.Elapsed);
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, token);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        })
        {
            Timeout = TimeSpan.FromSeconds(10),
        };
        _loop = Task.Run(() => RunAsync(target));
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
    /// request without an answer reached for the instance (opened its connection, or was sent if it had one) at least
    /// <paramref name="delay"/> after <paramref name="signalledAt"/>.
    /// </summary>
    /// <returns>The first request without an answer, and when it reached for the instance after the signal.</returns>
    public (Attempt Unanswered, TimeSpan SentAfterSignal) AssertServedThrough(TimeSpan signalledAt, TimeSpan delay, string what)
    {
        Assert.All(Answers, a => Assert.Equal(HttpStatusCode.OK, a.Code));
        var unanswered = Assert.IsType<Attempt>(FirstUnanswered);
        var sent = (unanswered.ConnectingAt ?? unanswered.StartedAt) - signalledAt;
        Assert.True(
            sent >= delay,
            $"a request sent {sent.TotalMilliseconds} ms after SIGTERM, inside the {delay} {what}, got no answer: {unanswered}");
        return (unanswered, sent);
    }

    public static SteadyTraffic Start(Uri baseAddress, Stopwatch clock, TimeSpan deadline) =>
        new(new Uri(baseAddress, "/"), clock, deadline);

    /// <summary>Waits, bounded by the deadline given at the start, for a connection to be refused.</summary>
    public Task UntilRefusedAsync() => _loop.WaitAsync(_deadline);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
        _client.Dispose();
    }

    private async Task RunAsync(Uri target)
    {
        using var pace = new PeriodicTimer(Interval);
        while (!_stop.IsCancellationRequested)
        {
            var startedAt = _clock.Elapsed;
            using var request = new HttpRequestMessage(HttpMethod.Get, target);
            TimeSpan? Connecting() => request.Options.TryGetValue(ConnectingAt, out var at) ? at : null;
            try
            {
                using var response = await _client.SendAsync(request, _stop.Token);
                _attempts.Enqueue(new Attempt(startedAt, _clock.Elapsed, response.StatusCode, Refused: false, Error: null) { ConnectingAt = Connecting() });
            }
            catch (HttpRequestException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
            {
                _attempts.Enqueue(new Attempt(startedAt, _clock.Elapsed, null, Refused: true, Error: null) { ConnectingAt = Connecting() });
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
                _attempts.Enqueue(new Attempt(startedAt, _clock.Elapsed, null, Refused: false, Error: Describe(e)) { ConnectingAt = Connecting() });
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

    /// <summary>
    /// One request: when it started and ended, its status code if it got one, or how it failed, and when it opened its
    /// connection (<see langword="null"/> if it used one already open).
    /// </summary>
    internal sealed record Attempt(TimeSpan StartedAt, TimeSpan EndedAt, HttpStatusCode? Code, bool Refused, string? Error)
    {
        public TimeSpan? ConnectingAt { get; init; }
    }
}
