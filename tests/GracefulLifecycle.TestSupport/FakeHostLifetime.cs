using Microsoft.Extensions.Hosting;

namespace GracefulLifecycle.TestSupport;

/// <summary>
/// The host's lifetime without a host: records <see cref="StopApplication"/> calls and fires
/// <see cref="ApplicationStopping"/> as the host does, so a test sees when the lifecycle stops the host.
/// </summary>
public sealed class FakeHostLifetime : IHostApplicationLifetime
{
    private readonly CancellationTokenSource _stopping = new();
    private int _stopCalls;

    public CancellationToken ApplicationStarted => CancellationToken.None;

    public CancellationToken ApplicationStopping => _stopping.Token;

    public CancellationToken ApplicationStopped => CancellationToken.None;

    /// <summary>Gets how many times <see cref="StopApplication"/> was called.</summary>
    public int StopCalls => Volatile.Read(ref _stopCalls);

    public void StopApplication()
    {
        Interlocked.Increment(ref _stopCalls);
        _stopping.Cancel();
    }
}
