using System.Text.RegularExpressions;
using GracefulLifecycle.Adaptive;
using GracefulLifecycle.TestSupport;

namespace GracefulLifecycle.Tests.Adaptive;

/// <summary>The shutdown timeline and every other log line read as sentences: no empty value, no "1 requests".</summary>
public sealed partial class ShutdownTimelineLogTests
{
    [Theory]
    [InlineData(0, null, "no request arrived after it")]
    [InlineData(1, 12L, "1 request arrived after it, 12 ms after it")]
    [InlineData(8, 151L, "8 requests arrived after it, the last 151 ms after it")]
    public void TheRequestsAfterLeaving_ReadAsASentence(long requests, long? lastMs, string expected) =>
        Assert.Equal(expected, ShutdownTimeline.DescribeAfterLeaving(requests, lastMs));

    [Fact]
    public async Task AShutdownWithNoRequestAfterLeaving_SaysSo_WithoutAnEmptyValue()
    {
        await using var host = await LifecycleTestHost.StartAsync();
        await Eventually.DoneAsync(host.Lifecycle.Ready, "ready");

        await host.StopAsync();

        var line = Assert.Single(host.Logs.Lines, l => l.Contains("[82]", StringComparison.Ordinal));
        Assert.Contains("; no request arrived after it; delay Elapsed at +", line, StringComparison.Ordinal);
        Assert.Contains("by peer: none", line, StringComparison.Ordinal);
        Assert.DoesNotContain("  ", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OneRequestAfterLeaving_IsOneRequest()
    {
        await using var host = await LifecycleTestHost.StartAsync();
        await Eventually.DoneAsync(host.Lifecycle.Ready, "ready");
        using var client = new HttpClient { BaseAddress = host.BaseAddress };
        var leave = host.Lifecycle.LeaveAsync();
        (await client.GetAsync("/")).Dispose();
        await host.AdvanceUntilAsync(() => leave.IsCompleted, "the delay ends");

        await host.StopAsync();

        var line = Assert.Single(host.Logs.Lines, l => l.Contains("[82]", StringComparison.Ordinal));
        Assert.Contains("; 1 request arrived after it, 0 ms after it;", line, StringComparison.Ordinal);
        Assert.Contains("by peer: 127.0.0.1 1 request, last at +0 ms", line, StringComparison.Ordinal);
    }

    [Fact]
    public void NoLogMessage_PutsACountBeforeAPluralNoun()
    {
        // "{Count} services" reads "1 services" once in a while: every count goes after its noun ("services: {Count}").
        var root = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", ".."));
        var offending = Directory.EnumerateFiles(Path.Combine(root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => LoggerMessage().Matches(File.ReadAllText(f)).Select(m => (File: Path.GetFileName(f), Template: m.Groups["template"].Value)))
            .Where(t => CountBeforePlural().IsMatch(t.Template))
            .Select(t => $"{t.File}: {t.Template}")
            .ToList();

        Assert.True(offending.Count == 0, "Counts before a plural noun:\n" + string.Join('\n', offending));
    }

    [GeneratedRegex(@"\[LoggerMessage\(\s*\d+\s*,\s*LogLevel\.\w+\s*,\s*""(?<template>[^""]*)""", RegexOptions.Singleline)]
    private static partial Regex LoggerMessage();

    // A placeholder for a count, followed by a plural noun: "{Count} services", "{Aborted} requests", "{N} more peers".
    [GeneratedRegex(@"\{(\w*(Count|Attempts|Sending|TooRare|InFlight|Work|WebSockets|Aborted|Requests\w*|Peers|Tasks))\} (more )?[a-zA-Z]+s\b")]
    private static partial Regex CountBeforePlural();
}
