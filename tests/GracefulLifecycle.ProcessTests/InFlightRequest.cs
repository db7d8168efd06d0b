using System.Diagnostics;
using System.Net;

namespace GracefulLifecycle.ProcessTests;

/// <summary>A stop signal while a request is in flight: the request completes, and the process exits 0.</summary>
internal static class InFlightRequest
{
    /// <summary>
    /// Starts a 3 s request, sends <paramref name="signal"/> once the app has it, and asserts that the request still
    /// completes with 200 and the process exits 0 within <paramref name="exitTimeout"/>.
    /// </summary>
    /// <returns>The time from the signal to the exit.</returns>
    public static async Task<TimeSpan> CompletesAcrossAsync(SampleProcess app, HttpClient client, int signal, TimeSpan exitTimeout)
    {
        var slow = client.GetAsync(new Uri(app.BaseAddress, "/slow?ms=3000"));
        await app.WaitForLogAsync("Slow request started (3000 ms)", TimeSpan.FromSeconds(10));
        var clock = Stopwatch.StartNew();
        app.Signal(signal);

        using var response = await slow.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Waited 3000 ms\n", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, await app.WaitForExitAsync(exitTimeout));
        return clock.Elapsed;
    }
}
