using System.Diagnostics;

namespace GracefulLifecycle.TestSupport;

/// <summary>Waits for an observable condition with a deadline, never for a fixed time.</summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    public static async Task TrueAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        var limit = timeout ?? DefaultTimeout;
        while (!condition())
        {
            if (deadline.Elapsed > limit)
            {
                throw new TimeoutException($"Timed out after {limit} waiting for: {what}");
            }

            await Task.Yield();
            await Task.Delay(5);
        }
    }

    public static async Task<T> ResultAsync<T>(Task<T> task, string what, TimeSpan? timeout = null)
    {
        try
        {
            return await task.WaitAsync(timeout ?? DefaultTimeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Timed out waiting for: {what}");
        }
    }

    public static async Task DoneAsync(Task task, string what, TimeSpan? timeout = null)
    {
        try
        {
            await task.WaitAsync(timeout ?? DefaultTimeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Timed out waiting for: {what}");
        }
    }
}
