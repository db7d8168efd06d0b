namespace GracefulLifecycle.Draining;

/// <summary>
/// Counts the requests in flight and aborts them all at once when the drain timeout is reached.
/// Per request it costs two interlocked operations and one registration on a token whose nodes are pooled.
/// </summary>
internal sealed class RequestTracker : IDisposable
{
    private readonly CancellationTokenSource _abort = new();
    private long _inFlight;

    public long InFlight => Interlocked.Read(ref _inFlight);

    /// <summary>Gets a token that fires when the requests in flight must be aborted.</summary>
    public CancellationToken AbortToken => _abort.Token;

    public void Enter() => Interlocked.Increment(ref _inFlight);

    public void Exit() => Interlocked.Decrement(ref _inFlight);

    /// <summary>Aborts every request in flight, and any that starts afterwards.</summary>
    /// <returns>How many requests were in flight.</returns>
    public long AbortAll()
    {
        var count = InFlight;
        try
        {
            _abort.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // A timer callback already under way when the host was disposed: nothing is left to abort.
            return 0;
        }

        return count;
    }

    public void Dispose() => _abort.Dispose();
}
