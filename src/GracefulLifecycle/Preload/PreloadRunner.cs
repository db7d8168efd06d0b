using System.Diagnostics;
using GracefulLifecycle.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Preload;

/// <summary>
/// Runs every preload task at once in one service scope, each bounded by its timeout. The first failure cancels the
/// others. A task that ignores its token is no longer waited for once it has timed out or shutdown has started. The
/// preload is a span (a trace of its own), each task a child span under which the task's own calls are traced.
/// </summary>
internal sealed class PreloadRunner(
    IEnumerable<PreloadRegistration> registrations,
    IServiceScopeFactory scopeFactory,
    TimeProvider timeProvider,
    IOptions<GracefulLifecycleOptions> options,
    ILogger<PreloadRunner> logger)
{
    private readonly PreloadRegistration[] _registrations = registrations.ToArray();

    public async Task<PreloadOutcome> RunAsync(CancellationToken cancellationToken)
    {
        if (_registrations.Length == 0)
        {
            return PreloadOutcome.Succeeded;
        }

        Log.PreloadStarted(logger, _registrations.Length);
        using var activity = LifecycleTracing.StartRoot(PreloadOperation, "preload", makeCurrent: true);
        var scope = scopeFactory.CreateAsyncScope();
        var work = new Task[_registrations.Length];
        using var run = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        var outcomes = await Task.WhenAll(_registrations.Select((r, i) => RunOneAsync(r, scope.ServiceProvider, work, i, run, cancellationToken))).ConfigureAwait(false);

        // A task that ignored its token may still be using scoped services: the scope ends when the last task does.
        _ = Task.WhenAll(work.Where(t => t is not null)).ContinueWith(
            static (all, state) =>
            {
                _ = all.Exception;
                return ((AsyncServiceScope)state!).DisposeAsync().AsTask();
            },
            scope,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default).Unwrap();

        if (outcomes.Contains(PreloadOutcome.Failed))
        {
            LifecycleTracing.Failed(activity, "failed", "A preload task failed or timed out.");
            return PreloadOutcome.Failed;
        }

        if (outcomes.Contains(PreloadOutcome.Canceled))
        {
            LifecycleTracing.Failed(activity, "canceled", "Shutdown started during the preload.");
            return PreloadOutcome.Canceled;
        }

        return PreloadOutcome.Succeeded;
    }

    public const string PreloadOperation = "GracefulLifecycle.Preload";

    public const string PreloadTaskOperation = "GracefulLifecycle.PreloadTask";

    private async Task<PreloadOutcome> RunOneAsync(
        PreloadRegistration registration, IServiceProvider services, Task[] work, int index, CancellationTokenSource run, CancellationToken shutdown)
    {
        var timeout = registration.Timeout ?? options.Value.PreloadTimeout;
        var started = timeProvider.GetTimestamp();
        using var timeoutSource = new CancellationTokenSource(timeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(run.Token, timeoutSource.Token);
        var runToken = run.Token;

        // The ambient span while the task runs: its own calls (HTTP, database) are traced under it.
        using var activity = LifecycleTracing.StartChild(
            PreloadTaskOperation, $"preload {registration.Name}", tags: new ActivityTagsCollection { [LifecycleTracing.PreloadTaskAttribute] = registration.Name });

        try
        {
            // On a thread of its own: a task that blocks synchronously (Thread.Sleep, .Result) then holds that thread,
            // never this one, so its timeout and shutdown are still seen and the others still start.
            var token = linked.Token;
            var task = work[index] = Task.Run(() => StartSafely(registration, services, token), CancellationToken.None);
            await task.WaitAsync(linked.Token).ConfigureAwait(false);
            Log.PreloadTaskCompleted(logger, registration.Name, ElapsedMs(started));
            return PreloadOutcome.Succeeded;
        }
        catch (Exception) when (shutdown.IsCancellationRequested)
        {
            // Whatever a task throws while shutdown cancels it is part of shutting down, not a preload failure.
            LifecycleTracing.Failed(activity, "canceled", "Shutdown started.");
            return PreloadOutcome.Canceled;
        }
        catch (OperationCanceledException) when (timeoutSource.IsCancellationRequested && !runToken.IsCancellationRequested)
        {
            Log.PreloadTaskTimedOut(logger, registration.Name, timeout);
            LifecycleTracing.Failed(activity, "timeout", $"Not done within its timeout ({timeout}).");
        }
        catch (OperationCanceledException) when (runToken.IsCancellationRequested)
        {
            LifecycleTracing.Failed(activity, "canceled", "Another preload task failed.");
            return PreloadOutcome.Canceled;
        }
        catch (Exception ex)
        {
            Log.PreloadTaskFailed(logger, registration.Name, ElapsedMs(started), ex);
            LifecycleTracing.Failed(activity, ex);
        }

        await run.CancelAsync().ConfigureAwait(false);
        return PreloadOutcome.Failed;
    }

    private static Task StartSafely(PreloadRegistration registration, IServiceProvider services, CancellationToken cancellationToken)
    {
        try
        {
            return registration.Run(services, cancellationToken);
        }
        catch (Exception ex)
        {
            return Task.FromException(ex);
        }
    }

    private long ElapsedMs(long started) => (long)timeProvider.GetElapsedTime(started).TotalMilliseconds;
}
