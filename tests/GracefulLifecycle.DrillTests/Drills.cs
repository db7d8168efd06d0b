using GracefulLifecycle.Drill;
using GracefulLifecycle.TestSupport;

namespace GracefulLifecycle.DrillTests;

/// <summary>
/// What every drill test does around a drill: its log goes to the test's output, its one-line result joins the
/// figures CI prints, and a request drill is held to the bar of no loss.
/// </summary>
internal static class Drills
{
    public static async Task<T> RunAsync<T>(ITestOutputHelper output, DrillSettings settings, Func<DrillSettings, TextWriter, Task<T>> run)
        where T : notnull
    {
        using var log = new OutputWriter(output);
        var result = await run(settings, log);
        Measurements.Append($"drill: {result}");
        return result;
    }

    /// <summary>Enough load to say something, no failed request, no replica killed for outliving its grace period.</summary>
    public static void AssertNoLoss(DrillResult result)
    {
        Assert.True(result.Requests > 1000, $"too little load to say anything: {result}");
        Assert.Equal(0, result.Failures);
        Assert.Equal(0, result.Killed);
    }

    private sealed class OutputWriter(ITestOutputHelper output) : StringWriter
    {
        public override void WriteLine(string? value) => output.WriteLine(value ?? string.Empty);
    }
}
