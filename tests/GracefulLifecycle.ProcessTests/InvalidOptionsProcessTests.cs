namespace GracefulLifecycle.ProcessTests;

/// <summary>
/// Invalid options on the real sample process: the start fails with exit code 1 and the messages, not with the
/// runtime's abort (exit 134, SIGABRT) on an unhandled <c>OptionsValidationException</c>.
/// </summary>
public sealed class InvalidOptionsProcessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ABareNumberForADuration_ExitsWith1_PrintingTheKeyAndTheFix()
    {
        await using var app = SampleProcess.Launch(output, "http://127.0.0.1:0", ("GracefulLifecycle:PreloadTimeout", "30"));

        var exitCode = await app.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, exitCode);
        Assert.Contains("The application did not start: invalid options (exit code 1).", app.Output, StringComparison.Ordinal);
        Assert.Contains("GracefulLifecycle:PreloadTimeout ('30') is a bare number, which binds as 30 days: write a duration as hh:mm:ss", app.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Now listening on", app.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SeveralInvalidOptions_ExitWith1_PrintingEachMessage()
    {
        await using var app = SampleProcess.Launch(
            output,
            "http://127.0.0.1:0",
            ("GracefulLifecycle:ReadinessPath", "/health/"),
            ("GracefulLifecycle:PreStop:TokenHeaderName", "X PreStop Token"));

        var exitCode = await app.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, exitCode);
        Assert.Contains("GracefulLifecycle:ReadinessPath ('/health/') is the same path as GracefulLifecycle:LivenessPath ('/health')", app.Output, StringComparison.Ordinal);
        Assert.Contains("GracefulLifecycle:PreStop:TokenHeaderName ('X PreStop Token') is not a valid HTTP header name", app.Output, StringComparison.Ordinal);
    }
}
