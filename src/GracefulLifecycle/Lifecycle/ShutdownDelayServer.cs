using GracefulLifecycle.Adaptive;
using GracefulLifecycle.Diagnostics;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Lifecycle;

/// <summary>
/// Serves the shutdown delay after leaving: the whole delay, or (adaptive) until the traffic shows the routes have
/// moved; a second signal cuts it short. Records how it ended.
/// </summary>
internal sealed class ShutdownDelayServer(
    TimeProvider time, AdaptiveDelay adaptiveDelay, LifecycleMetrics metrics, ShutdownTimeline timeline, ILogger<LifecycleCoordinator> logger)
{
    public async Task ServeAsync(TimeSpan delay, CancellationToken skip)
    {
        var started = time.GetTimestamp();
        var end = (Reason: DelayEnd.None, At: started);
        if (delay > TimeSpan.Zero && adaptiveDelay.Enabled)
        {
            // The delay becomes the maximum: it ends earlier once the traffic shows the routes have moved.
            end = await adaptiveDelay.ServeAsync(delay, skip).ConfigureAwait(false);
        }
        else if (delay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(delay, time, skip).ConfigureAwait(false);
                Log.ShutdownDelayElapsed(logger, delay);
                end = (DelayEnd.Elapsed, started + (long)(delay.TotalSeconds * time.TimestampFrequency));
            }
            catch (OperationCanceledException)
            {
                end = (DelayEnd.Signal, time.GetTimestamp());
                Log.ShutdownDelaySkipped(logger, (long)time.GetElapsedTime(started, end.At).TotalMilliseconds);
            }
        }

        if (delay > TimeSpan.Zero)
        {
            metrics.ShutdownDelayServed(time.GetElapsedTime(started, end.At), end.Reason switch
            {
                DelayEnd.Quiet => "quiet",
                DelayEnd.Maximum => "maximum",
                DelayEnd.Signal => "skipped",
                _ => "elapsed",
            });
        }

        timeline.DelayEnded(end.Reason, end.At);
    }
}
