using GracefulLifecycle.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Endpoints;

/// <summary>
/// Logs refused preStop calls without letting a caller flood the log: one client looping on <c>/prestop</c> wrote
/// 337,636 lines (57 MiB) in 10 s. The first refusal is logged in full; the refusals of the next
/// <see cref="Interval"/> are counted and summed up in one line when it ends, with the last one's details, and so on
/// while they keep coming. An interval without any ends the run: the next refusal is logged in full again. The
/// metric still counts every refusal.
/// </summary>
internal sealed class PreStopRefusalLog : IDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private ITimer? _timer;
    private long _count;
    private (string Method, string Path, string Caller, int LocalPort, PreStopDecision Decision) _last;

    public PreStopRefusalLog(TimeProvider time, ILogger<ProbeEndpoints> logger)
    {
        _time = time;
        _logger = logger;
    }

    public void Refused(HttpContext context, PreStopDecision decision)
    {
        var method = context.Request.Method;
        var path = context.Request.Path.Value ?? string.Empty;
        var caller = PreStopGate.DescribeCaller(context);
        lock (_gate)
        {
            if (_timer is not null)
            {
                // Formatted only for the summary: a flood costs a count, not a string per call.
                _count++;
                _last = (method, path, caller, context.Connection.LocalPort, decision);
                return;
            }

            _timer = _time.CreateTimer(static state => ((PreStopRefusalLog)state!).IntervalEnded(), this, Interval, Interval);
        }

        Log.PreStopRefused(_logger, method, path, caller, context.Connection.LocalPort, decision.StatusCode, decision.Reason!);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _timer?.Dispose();
            _timer = null;
        }
    }

    private void IntervalEnded()
    {
        long count;
        (string Method, string Path, string Caller, int LocalPort, PreStopDecision Decision) last;
        lock (_gate)
        {
            count = _count;
            last = _last;
            _count = 0;
            _last = default;
            if (count == 0)
            {
                // A quiet interval: the next refusal is news again.
                _timer?.Dispose();
                _timer = null;
                return;
            }
        }

        Log.PreStopRefusalsSummarized(
            _logger, count, Interval, $"{last.Method} {last.Path} from {last.Caller} on local port {last.LocalPort} with {last.Decision.StatusCode}: {last.Decision.Reason}");
    }
}
