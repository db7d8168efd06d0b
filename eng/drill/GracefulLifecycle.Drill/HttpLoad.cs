namespace GracefulLifecycle.Drill;

/// <summary>wrk as the drill's load: short HTTP requests over kept-alive connections, counted by wrk itself.</summary>
internal sealed class HttpLoad(DrillSettings settings) : IDrillLoad
{
    private Wrk? _wrk;

    /// <summary>Gets wrk's counts, once <see cref="StopAsync"/> has read them.</summary>
    public (long Requests, long Non2xx, long Connect, long Read, long Write, long Timeout, IReadOnlyList<string> Timeline) Counts { get; private set; }

    public Task StartAsync(Uri target)
    {
        _wrk = Wrk.Start(target, settings.Threads, settings.Connections);
        return Task.CompletedTask;
    }

    public async Task StopAsync()
    {
        if (_wrk is not null)
        {
            Counts = await _wrk.StopAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_wrk is not null)
        {
            await _wrk.DisposeAsync();
        }
    }
}
