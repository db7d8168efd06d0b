using System.Globalization;
using System.Text;
using GracefulLifecycle.Adaptive;
using GracefulLifecycle.Diagnostics;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Shutdown;

/// <summary>
/// Consults the <see cref="IShutdownAdvisor"/>s once as a shutdown starts, within <see cref="MaxWait"/>, and applies
/// their advice: holds the delay for what they wait on, fits the delay and the drain into their deadline
/// (<see cref="ShutdownFit"/>), and tells the shutdown timeline which case it was.
/// </summary>
internal sealed class ShutdownAdvisors
{
    /// <summary>
    /// The longest the shutdown waits for the advice. A pod read answers in milliseconds; an API server that hangs
    /// must not hold the shutdown: this much is served as part of the delay (readiness already fails), then the
    /// shutdown goes on as planned.
    /// </summary>
    internal static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(2);

    private const long NotCut = -1;

    private readonly IShutdownAdvisor[] _advisors;
    private readonly ShutdownPlan _plan;
    private readonly TimeProvider _time;
    private readonly ShutdownTimeline _timeline;
    private readonly ILogger _logger;
    private long _drainTicks = NotCut;

    public ShutdownAdvisors(IEnumerable<IShutdownAdvisor> advisors, ShutdownPlan plan, TimeProvider time, ShutdownTimeline timeline, ILogger<ShutdownAdvisors> logger)
    {
        _advisors = advisors.ToArray();
        _plan = plan;
        _time = time;
        _timeline = timeline;
        _logger = logger;
    }

    /// <summary>Gets the drain timeout in force: the option's, or less when the advice's deadline cut it.</summary>
    public TimeSpan DrainTimeout => Volatile.Read(ref _drainTicks) is var ticks and not NotCut
        ? TimeSpan.FromTicks(ticks)
        : _plan.DrainTimeout;

    /// <summary>
    /// Gets how much longer than planned a leave may last because of the advice: the wait for it, and a hold, which
    /// ends within the grace period at the latest.
    /// </summary>
    public TimeSpan ExtraBound => _advisors.Length == 0 ? TimeSpan.Zero : MaxWait + _plan.TerminationGracePeriod;

    /// <summary>Asks every advisor, at once, as leaving starts. The task completes within <see cref="MaxWait"/> and never faults.</summary>
    /// <param name="trigger">What started the shutdown.</param>
    /// <param name="afterPreStopSleep">Whether the kubelet's preStop sleep came before (SIGTERM).</param>
    public Task<Advice?> ConsultAsync(string trigger, bool afterPreStopSleep)
    {
        if (_advisors.Length == 0)
        {
            return Task.FromResult<Advice?>(null);
        }

        var now = _time.GetUtcNow();
        var context = new ShutdownAdviceContext(trigger, now, afterPreStopSleep ? now - _plan.PreStopSleep : now);
        return ConsultAllAsync(context);
    }

    /// <summary>
    /// Waits for the advice, holds the delay if it says so (bounded), and fits what is left into its deadline.
    /// </summary>
    /// <param name="consulting">The task <see cref="ConsultAsync"/> returned.</param>
    /// <param name="delay">The delay planned from now.</param>
    /// <param name="routed">Whether anyone was routed here (the instance was ready, or a registry heard of it): nothing to hold for otherwise.</param>
    /// <param name="skip">A second signal: ends a hold at once.</param>
    /// <returns>The delay to serve from now.</returns>
    public async Task<TimeSpan> ApplyAsync(Task<Advice?> consulting, TimeSpan delay, bool routed, CancellationToken skip)
    {
        var started = _time.GetTimestamp();
        var advice = await consulting.ConfigureAwait(false);

        // The wait for the advice was served with readiness failing: it is part of the delay.
        var waited = _time.GetElapsedTime(started);
        delay = delay > waited ? delay - waited : TimeSpan.Zero;
        if (advice is null)
        {
            return delay;
        }

        var drain = _plan.DrainTimeout;
        var margin = _plan.ShutdownMargin;
        var hold = routed ? advice.Hold : null;
        var deadline = advice.Deadline ?? (hold is null ? null : advice.TerminationStartedAt + _plan.TerminationGracePeriod);
        Log.ShutdownAdvice(_logger, advice.Case, deadline?.ToString("O", CultureInfo.InvariantCulture) ?? "unknown");
        var story = new StringBuilder(advice.Case);

        if (hold is not null)
        {
            // The hold leaves room for the floor of the delay, the drain and the margin before the deadline.
            var floor = advice.MinimumDelay < delay ? advice.MinimumDelay : delay;
            var bound = deadline!.Value - margin - drain - floor - _time.GetUtcNow();
            bound = bound > TimeSpan.Zero ? bound : TimeSpan.Zero;
            Log.ShutdownDelayHeld(_logger, advice.HoldReason ?? "the advisor's condition", bound);
            var holdStarted = _time.GetTimestamp();
            string outcome;
            try
            {
                await hold.WaitAsync(bound, _time, skip).ConfigureAwait(false);
                outcome = $"until {advice.HoldReason}";
            }
            catch (TimeoutException)
            {
                outcome = $"to its bound (the grace period less the drain, the margin and the minimum delay), before {advice.HoldReason}";
            }
            catch (OperationCanceledException) when (skip.IsCancellationRequested)
            {
                outcome = "until a second signal";
            }
            catch (Exception ex)
            {
                // A condition that cannot be met any more holds nothing: the delay goes on as planned.
                outcome = $"at once: waiting for {advice.HoldReason} failed ({ex.GetType().Name}: {ex.Message})";
            }

            var heldMs = (long)_time.GetElapsedTime(holdStarted).TotalMilliseconds;
            Log.ShutdownDelayHoldEnded(_logger, heldMs, outcome);
            story.Append(CultureInfo.InvariantCulture, $"; held {heldMs} ms {outcome}");
        }

        if (deadline is { } end)
        {
            var left = end - _time.GetUtcNow();
            var fit = ShutdownFit.Fit(left, delay, drain, margin, advice.MinimumDelay);
            if (fit.Compressed)
            {
                Volatile.Write(ref _drainTicks, fit.Drain.Ticks);
                Log.ShutdownFitted(_logger, left, delay, fit.Delay, advice.MinimumDelay < delay ? advice.MinimumDelay : delay, drain, fit.Drain, margin);
                story.Append(CultureInfo.InvariantCulture, $"; fitted to the deadline {(long)left.TotalMilliseconds} ms away: delay {(long)delay.TotalMilliseconds} -> {(long)fit.Delay.TotalMilliseconds} ms, drain {(long)drain.TotalMilliseconds} -> {(long)fit.Drain.TotalMilliseconds} ms");
                delay = fit.Delay;
            }
            else
            {
                story.Append(CultureInfo.InvariantCulture, $"; the plan fits before the deadline, {(long)left.TotalMilliseconds} ms away");
            }
        }

        _timeline.Advised(story.ToString());
        return delay;
    }

    private async Task<Advice?> ConsultAllAsync(ShutdownAdviceContext context)
    {
        using var stop = new CancellationTokenSource();
        var asks = _advisors.Select(a => AskAsync(a, context, stop.Token)).ToArray();
        try
        {
            await Task.WhenAll(asks).WaitAsync(MaxWait, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Those that answered count; the others are ignored.
        }

        // Which answered in time, before the late ones are told to stop (and some then complete).
        var answered = asks.Select(a => a.IsCompleted).ToArray();
        await stop.CancelAsync().ConfigureAwait(false);
        var given = new List<ShutdownAdvice>();
        for (var i = 0; i < asks.Length; i++)
        {
            if (!answered[i])
            {
                Log.ShutdownAdviceMissing(_logger, Name(_advisors[i]), $"no answer within {MaxWait.TotalSeconds} s", null);
            }
            else if (asks[i].Result is { } advice)
            {
                given.Add(advice);
            }
        }

        return given.Count == 0 ? null : new Advice(
            string.Join("; ", given.Select(a => a.Case)),
            given.Select(a => a.Deadline).Min(),
            given.Max(a => a.MinimumDelay),
            given.Any(a => a.HoldUntil is not null) ? Task.WhenAll(given.Where(a => a.HoldUntil is not null).Select(a => a.HoldUntil!)) : null,
            given.Any(a => a.HoldUntil is not null) ? string.Join(" and ", given.Where(a => a.HoldUntil is not null).Select(a => a.HoldReason ?? "the advisor's condition")) : null,
            context.TerminationStartedAt);
    }

    private async Task<ShutdownAdvice?> AskAsync(IShutdownAdvisor advisor, ShutdownAdviceContext context, CancellationToken stop)
    {
        try
        {
            // On the thread pool: an advisor that blocks its thread must not hold leaving.
            return await Task.Run(() => advisor.AdviseAsync(context, stop), CancellationToken.None).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Too late: reported as no answer.
            return null;
        }
        catch (Exception ex)
        {
            Log.ShutdownAdviceMissing(_logger, Name(advisor), "it failed", ex);
            return null;
        }
    }

    private static string Name(IShutdownAdvisor advisor) => advisor.GetType().Name;

    /// <summary>The advice of every advisor that answered, together: the earliest deadline, the largest minimum delay, every hold.</summary>
    internal sealed record Advice(string Case, DateTimeOffset? Deadline, TimeSpan MinimumDelay, Task? Hold, string? HoldReason, DateTimeOffset TerminationStartedAt);
}
