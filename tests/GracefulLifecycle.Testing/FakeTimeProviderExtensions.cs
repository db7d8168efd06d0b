using System.Diagnostics;

namespace GracefulLifecycle.Testing;

/// <summary>Fake-time helpers for code that arms its timers from other threads.</summary>
public static class FakeTimeProviderExtensions
{
    /// <summary>
    /// Moves the clock forward by <paramref name="total"/> in small steps, giving other threads a moment between steps
    /// to arm their next timer, and waits (real time, with a deadline) until <paramref name="condition"/> holds.
    /// </summary>
    public static async Task AdvanceAsync(this FakeTimeProvider time, TimeSpan total, Func<bool> condition, string what)
    {
        var step = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(100).Ticks, total.Ticks / 100));
        for (var moved = TimeSpan.Zero; moved < total; moved += step)
        {
            time.Advance(total - moved < step ? total - moved : step);
            await Task.Delay(2);
        }

        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > Eventually.DefaultTimeout)
            {
                throw new TimeoutException($"Timed out waiting for: {what}");
            }

            await Task.Delay(5);
        }
    }

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
