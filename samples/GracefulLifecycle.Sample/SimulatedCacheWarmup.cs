using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Sample;

/// <summary>Stands in for loading a catalog into memory before the instance takes traffic.</summary>
internal sealed class SimulatedCacheWarmup(IOptions<SampleOptions> options, TimeProvider time, ILogger<SimulatedCacheWarmup> logger) : IPreloadTask
{
    public async Task PreloadAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        SampleLog.WarmupStarted(logger, settings.PreloadDuration);
        if (settings.PreloadBlocks)
        {
            // Deliberately synchronous and deaf to the token: what a careless warm-up does.
            Thread.Sleep(Timeout.Infinite);
        }

        await Task.Delay(settings.PreloadDuration, time, cancellationToken);
        if (settings.PreloadFails)
        {
            throw new InvalidOperationException("Simulated warm-up failure (Sample:PreloadFails is true).");
        }
    }
}
