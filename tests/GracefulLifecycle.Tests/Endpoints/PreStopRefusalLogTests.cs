using System.Net;
using GracefulLifecycle.Endpoints;
using GracefulLifecycle.TestSupport;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Tests.Endpoints;

/// <summary>
/// Refused preStop calls on fake time: one client looping on <c>/prestop</c> once wrote 337,636 warnings in 10 s; now
/// the first refusal is logged, then one summary line per interval while refusals go on.
/// </summary>
public sealed class PreStopRefusalLogTests
{
    private static readonly PreStopDecision NotLoopback = new(StatusCodes.Status403Forbidden, "the connection is not on loopback");

    [Fact]
    public void AFloodOfRefusals_LogsTheFirst_ThenOneSummaryPerIntervalWithTheCount()
    {
        var (time, logs, log) = Create();

        for (var i = 0; i < 10_000; i++)
        {
            log.Refused(Call("10.9.9.9"), NotLoopback);
        }

        Assert.Equal(["[15]"], Ids(logs));

        time.Advance(PreStopRefusalLog.Interval - TimeSpan.FromTicks(1));
        Assert.Equal(["[15]"], Ids(logs));

        time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(["[15]", "[49]"], Ids(logs));
        Assert.Contains(logs.Lines, l => l.Contains("[49] More preStop calls refused in the last 00:00:10: 9999; the last: POST /prestop from 10.9.9.9", StringComparison.Ordinal)
            && l.Contains("with 403: the connection is not on loopback", StringComparison.Ordinal));

        // Still coming in the next interval: one more summary, with that interval's count.
        for (var i = 0; i < 3; i++)
        {
            log.Refused(Call("10.9.9.9"), NotLoopback);
        }

        time.Advance(PreStopRefusalLog.Interval);
        Assert.Equal(["[15]", "[49]", "[49]"], Ids(logs));
        Assert.Contains(logs.Lines, l => l.Contains("[49] More preStop calls refused in the last 00:00:10: 3;", StringComparison.Ordinal));
    }

    [Fact]
    public void AfterAQuietInterval_TheNextRefusalIsLoggedInFullAgain_AndNoEmptySummaryIsWritten()
    {
        var (time, logs, log) = Create();

        log.Refused(Call("10.9.9.9"), NotLoopback);
        time.Advance(PreStopRefusalLog.Interval);
        time.Advance(PreStopRefusalLog.Interval);
        log.Refused(Call("10.9.9.8"), NotLoopback);

        Assert.Equal(["[15]", "[15]"], Ids(logs));
        Assert.Contains(logs.Lines, l => l.Contains("[15] Refused POST /prestop from 10.9.9.8", StringComparison.Ordinal));
        Assert.Equal(1, time.PendingTimers);
    }

    private static (FakeTimeProvider Time, CapturingLoggerProvider Logs, PreStopRefusalLog Log) Create()
    {
        var time = new FakeTimeProvider();
        var logs = new CapturingLoggerProvider();
        var factory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        return (time, logs, new PreStopRefusalLog(time, factory.CreateLogger<ProbeEndpoints>()));
    }

    private static DefaultHttpContext Call(string remote)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = HttpMethods.Post;
        context.Request.Path = "/prestop";
        context.Connection.LocalPort = 8080;
        context.Features.Set<IConnectionEndPointFeature>(new EndPoints
        {
            RemoteEndPoint = new IPEndPoint(IPAddress.Parse(remote), 40000),
            LocalEndPoint = new IPEndPoint(IPAddress.Parse("10.0.0.1"), 8080),
        });
        return context;
    }

    private sealed class EndPoints : IConnectionEndPointFeature
    {
        public EndPoint? LocalEndPoint { get; set; }

        public EndPoint? RemoteEndPoint { get; set; }
    }

    private static string[] Ids(CapturingLoggerProvider logs) =>
        [.. logs.Lines.Select(l => l[l.IndexOf('[', StringComparison.Ordinal)..(l.IndexOf(']', StringComparison.Ordinal) + 1)])];
}
