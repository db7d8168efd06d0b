using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace GracefulLifecycle.Kubernetes;

/// <summary>
/// Counts the failed answers this instance gave to the kubelet's own HTTP probes, by path: what the kubelet counts
/// toward a probe's <c>failureThreshold</c>. A request is the kubelet's when its User-Agent is <c>kube-probe/</c>
/// (kubernetes pkg/probe/http/request.go: <c>kube-probe/&lt;major&gt;.&lt;minor&gt;</c>, unless the probe sets its own
/// User-Agent header), and failed when its status is outside 200-399 (pkg/probe/http/http.go: success is
/// <c>200 &lt;= code &lt; 400</c>). Only the failures since leaving started count: the kubelet
/// needs <c>failureThreshold</c> consecutive failures (pkg/kubelet/prober/worker.go, <c>resultRun</c>), and readiness
/// fails without a break from the start of leaving.
/// </summary>
internal sealed class KubeletProbes
{
    private const string UserAgentPrefix = "kube-probe/";

    // The kubelet probes a few paths; a client that sends the kubelet's User-Agent on others cannot grow this past it.
    private const int MaxPaths = 32;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, long> _failures = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<Waiter> _waiters = [];

    /// <summary>Records one answer to a request, if it was a failed kubelet probe.</summary>
    public void Answered(HttpContext context)
    {
        var status = context.Response.StatusCode;
        if (status is >= 200 and < 400 ||
            !context.Request.Headers.UserAgent.ToString().StartsWith(UserAgentPrefix, StringComparison.Ordinal))
        {
            return;
        }

        var path = context.Request.PathBase.Add(context.Request.Path).Value ?? "/";
        lock (_gate)
        {
            if (!_failures.TryGetValue(path, out var count) && _failures.Count >= MaxPaths)
            {
                return;
            }

            _failures[path] = ++count;
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                var waiter = _waiters[i];
                if (string.Equals(waiter.Path, path, StringComparison.OrdinalIgnoreCase) && count >= waiter.Target)
                {
                    _waiters.RemoveAt(i);
                    waiter.Done.TrySetResult();
                }
            }
        }
    }

    /// <summary>Gets the failed answers so far, by path: where a later count starts.</summary>
    public IReadOnlyDictionary<string, long> Snapshot()
    {
        lock (_gate)
        {
            return new Dictionary<string, long>(_failures, StringComparer.OrdinalIgnoreCase);
        }
    }

    /// <summary>
    /// Completes once the kubelet has had <paramref name="threshold"/> failed answers on <paramref name="path"/> since
    /// <paramref name="since"/> was taken.
    /// </summary>
    public Task WhenFailedAsync(string path, int threshold, IReadOnlyDictionary<string, long> since)
    {
        var target = (since.TryGetValue(path, out var start) ? start : 0) + Math.Max(threshold, 1);
        lock (_gate)
        {
            if (_failures.TryGetValue(path, out var count) && count >= target)
            {
                return Task.CompletedTask;
            }

            var waiter = new Waiter(path, target);
            _waiters.Add(waiter);
            return waiter.Done.Task;
        }
    }

    private sealed class Waiter(string path, long target)
    {
        public string Path { get; } = path;

        public long Target { get; } = target;

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>Puts <see cref="KubeletProbes"/> in front of the application's pipeline: it sees every answer, the lifecycle endpoints' included.</summary>
internal sealed class KubeletProbesStartupFilter(KubeletProbes probes) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, nextMiddleware) =>
        {
            try
            {
                await nextMiddleware(context).ConfigureAwait(false);
            }
            finally
            {
                probes.Answered(context);
            }
        });
        next(app);
    };
}
