using System.Diagnostics;

namespace GracefulLifecycle.TestSupport;

/// <summary>Fake-time helpers for code that arms its timers from other threads.</summary>
public static class FakeTimeProviderExtensions
{
    /// <summary>Moves the clock forward in steps until <paramref name="condition"/> holds, with a real-time deadline.</summary>
    public static async Task AdvanceUntilAsync(this FakeTimeProvider time, Func<bool> condition, string what, TimeSpan? step = null)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > Eventually.DefaultTimeout)
            {
                throw new TimeoutException($"Timed out moving fake time until: {what}");
            }

            time.Advance(step ?? TimeSpan.FromMilliseconds(250));
            await Task.Delay(5);
        }
    }
}
