using System.Diagnostics;
using System.Net.Http.Headers;

namespace GracefulLifecycle.TestSupport.Kubernetes;

/// <summary>One probe the simulated kubelet sent: when (from the simulator's start), and the status (0 when it failed without one).</summary>
public sealed record KubeletProbe(TimeSpan At, int StatusCode, bool Success);

/// <summary>
/// The kubelet's readiness prober for one container, on real time: an HTTP GET every <c>periodSeconds</c> with the
/// kubelet's User-Agent, success on 200-399, and the endpoint marked not ready after <c>failureThreshold</c>
/// consecutive failures, as the EndpointSlice controller then removes it from the Service.
/// </summary>
/// <remarks>
/// Follows kubernetes pkg/kubelet/prober/worker.go (a ticker every <c>PeriodSeconds</c>; a result changes the
/// container's readiness only after <c>resultRun</c> reaches <c>FailureThreshold</c> failures or
/// <c>SuccessThreshold</c> successes, 1 for readiness; readiness is false until the first success), pkg/probe/http/http.go
/// (success is <c>200 &lt;= code &lt; 400</c>; a connection error or a timeout after <c>timeoutSeconds</c> is a
/// failure; keep-alives disabled: one connection per probe) and pkg/probe/http/request.go (User-Agent
/// <c>kube-probe/&lt;major&gt;.&lt;minor&gt;</c>, Accept <c>*/*</c>).
/// </remarks>
public sealed class KubeletSimulator : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly List<KubeletProbe> _probes = [];
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<TimeSpan> _removed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private readonly HttpClient _client;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Task _loop;
    private int _consecutiveFailures;

    private KubeletSimulator(Uri probeUrl, TimeSpan period, int failureThreshold, TimeSpan timeout, string version)
    {
        ProbeUrl = probeUrl;
        Period = period;
        FailureThreshold = failureThreshold;
        UserAgent = "kube-probe/" + version;

        // No pooled connection is reused: the kubelet's transport disables keep-alives.
        _client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero, ConnectTimeout = timeout })
        {
            Timeout = timeout,
        };
        _loop = RunAsync();
    }

    public Uri ProbeUrl { get; }

    public TimeSpan Period { get; }

    public int FailureThreshold { get; }

    public string UserAgent { get; }

    /// <summary>Gets whether the endpoint is ready, as the kubelet reports it.</summary>
    public bool Ready { get; private set; }

    /// <summary>Completes at the first successful probe.</summary>
    public Task BecameReady => _ready.Task;

    /// <summary>Completes, with the time since the start, when the endpoint is removed: the <see cref="FailureThreshold"/>th failure in a row after it was ready.</summary>
    public Task<TimeSpan> EndpointRemoved => _removed.Task;

    public IReadOnlyList<KubeletProbe> Probes
    {
        get
        {
            lock (_gate)
            {
                return [.. _probes];
            }
        }
    }

    /// <summary>Gets the time since the simulator started.</summary>
    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Starts probing <paramref name="probeUrl"/> at once, then every <paramref name="period"/>.</summary>
    public static KubeletSimulator Start(Uri probeUrl, TimeSpan period, int failureThreshold = 3, TimeSpan? timeout = null, string version = "1.31") =>
        new(probeUrl, period, failureThreshold, timeout ?? TimeSpan.FromSeconds(1), version);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }

        _client.Dispose();
        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        using var ticker = new PeriodicTimer(Period);
        do
        {
            await ProbeOnceAsync();
        }
        while (await ticker.WaitForNextTickAsync(_stop.Token));
    }

    private async Task ProbeOnceAsync()
    {
        var status = 0;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, ProbeUrl);
            request.Headers.UserAgent.ParseAdd(UserAgent);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("*/*"));
            request.Headers.ConnectionClose = true;
            using var response = await _client.SendAsync(request, _stop.Token);
            status = (int)response.StatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !_stop.IsCancellationRequested)
        {
            // Refused, reset or timed out: a failure.
        }

        var success = status is >= 200 and < 400;
        lock (_gate)
        {
            _probes.Add(new KubeletProbe(_clock.Elapsed, status, success));
            if (success)
            {
                _consecutiveFailures = 0;
                Ready = true;
                _ready.TrySetResult();
            }
            else if (++_consecutiveFailures >= FailureThreshold && Ready)
            {
                Ready = false;
                _removed.TrySetResult(_clock.Elapsed);
            }
        }
    }
}
