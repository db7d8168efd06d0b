using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace GracefulLifecycle.ProcessTests;

/// <summary>
/// One client calling <c>GET /</c> back to back, as a consumer with a stale registry cache keeps doing, until the
/// instance stops listening or the deadline passes. Records when each answer came and what it was.
/// </summary>
internal sealed class SteadyTraffic : IAsyncDisposable
{
    private readonly ConcurrentQueue<(TimeSpan At, HttpStatusCode? Code)> _answers = new();
    private readonly CancellationTokenSource _stop;
    private readonly Stopwatch _clock;
    private readonly Task _loop;

    private SteadyTraffic(HttpClient client, Uri target, Stopwatch clock, TimeSpan deadline)
    {
        _clock = clock;
        _stop = new CancellationTokenSource(deadline);
        _loop = Task.Run(() => RunAsync(client, target));
    }

    /// <summary>Gets the answers so far; a <see langword="null"/> code is a failed connection.</summary>
    public IReadOnlyCollection<(TimeSpan At, HttpStatusCode? Code)> Answers => _answers;

    /// <summary>Gets when the first connection failed, on the clock given at the start, if one has.</summary>
    public TimeSpan? FirstRefusedAt
    {
        get
        {
            foreach (var (at, code) in _answers)
            {
                if (code is null)
                {
                    return at;
                }
            }

            return null;
        }
    }

    public static SteadyTraffic Start(HttpClient client, Uri baseAddress, Stopwatch clock, TimeSpan deadline) =>
        new(client, new Uri(baseAddress, "/"), clock, deadline);

    /// <summary>Waits (bounded by the deadline given at the start) for the instance to stop listening.</summary>
    public Task UntilRefusedAsync() => _loop.WaitAsync(TimeSpan.FromMinutes(1));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private async Task RunAsync(HttpClient client, Uri target)
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                using var response = await client.GetAsync(target, _stop.Token);
                _answers.Enqueue((_clock.Elapsed, response.StatusCode));
            }
            catch (HttpRequestException)
            {
                _answers.Enqueue((_clock.Elapsed, null));
                return;
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
        }
    }
}
