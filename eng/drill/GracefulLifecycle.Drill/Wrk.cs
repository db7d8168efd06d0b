using System.Globalization;

namespace GracefulLifecycle.Drill;

/// <summary>wrk running the drill's Lua script until it is interrupted, then its counts.</summary>
internal sealed class Wrk : IAsyncDisposable
{
    private readonly ChildProcess _process;
    private readonly string _timeline;

    private Wrk(ChildProcess process, string timeline)
    {
        _process = process;
        _timeline = timeline;
    }

    public static Wrk Start(Uri target, int threads, int connections)
    {
        var timeline = Path.Combine(Path.GetTempPath(), $"drill-timeline-{Guid.NewGuid():N}");
        var script = Path.Combine(AppContext.BaseDirectory, "drill.lua");
        var process = new ChildProcess(
            WrkOutput.Binary,
            ["-t", threads.ToString(CultureInfo.InvariantCulture), "-c", connections.ToString(CultureInfo.InvariantCulture), "-d", "900s", "--timeout", "5s", "-s", script, target.ToString()],
            new Dictionary<string, string> { ["DRILL_TIMELINE"] = timeline });
        return new Wrk(process, timeline);
    }

    /// <summary>Stops the load (wrk prints its summary on SIGINT) and reads the counts.</summary>
    public async Task<(long Requests, long Non2xx, long Connect, long Read, long Write, long Timeout, IReadOnlyList<string> Timeline)> StopAsync()
    {
        _process.Signal(ChildProcess.SIGINT);
        if (!await _process.WaitForExitAsync(TimeSpan.FromSeconds(30)))
        {
            throw new InvalidOperationException("wrk did not stop on SIGINT.");
        }

        var output = _process.Output;
        if (Environment.GetEnvironmentVariable("DRILL_DEBUG") is { Length: > 0 })
        {
            Console.WriteLine(output);
        }
        var (connect, read, write, timeout) = WrkOutput.SocketErrors(output);
        return (WrkOutput.Requests(output), WrkOutput.Non2xx(output), connect, read, write, timeout, ReadTimeline());
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();

    private List<string> ReadTimeline()
    {
        var seconds = new SortedDictionary<long, (long Ok, long Bad)>();
        foreach (var file in Directory.GetFiles(Path.GetDirectoryName(_timeline)!, Path.GetFileName(_timeline) + ".*"))
        {
            foreach (var line in File.ReadAllLines(file))
            {
                var parts = line.Split(' ');
                if (parts.Length == 3)
                {
                    var second = long.Parse(parts[0], CultureInfo.InvariantCulture);
                    var (ok, bad) = seconds.GetValueOrDefault(second);
                    seconds[second] = (ok + long.Parse(parts[1], CultureInfo.InvariantCulture), bad + long.Parse(parts[2], CultureInfo.InvariantCulture));
                }
            }

            File.Delete(file);
        }

        var first = seconds.Keys.FirstOrDefault();
        return seconds.Select(s => string.Create(CultureInfo.InvariantCulture, $"t+{s.Key - first,3}s  2xx {s.Value.Ok,6}  other {s.Value.Bad,4}")).ToList();
    }
}
