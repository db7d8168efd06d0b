using System.Diagnostics;
using GracefulLifecycle.Diagnostics;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Registration;

/// <summary>
/// One registry's registration: register with retries and backoff, renew while registered, register again when
/// the registration is lost, and on leaving stop the loop, let a call already in flight finish, then deregister.
/// Nothing is sent after the deregistration: a late heartbeat would register the instance again. Each call is a span
/// (<c>register</c> and <c>renew</c> each a trace of its own, <c>deregister</c> under the shutdown's) and a measurement
/// of <c>gracefullifecycle.registry.operation.duration</c>, with <c>error.type</c> when it failed.
/// </summary>
internal sealed class RegistrySession : IDisposable
{
    private readonly IServiceRegistry _registry;
    private readonly TimeProvider _time;
    private readonly RegistrationOptions _options;
    private readonly ILogger _logger;
    private readonly LifecycleMetrics? _metrics;
    private readonly ShutdownTrace? _shutdownTrace;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _abortCalls = new();
    private readonly TaskCompletionSource _registered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _loop = Task.CompletedTask;
    private ServiceInstance? _instance;
    private Task? _leave;
    private bool _attempted;
    private volatile bool _confirmed;

    public RegistrySession(
        IServiceRegistry registry, TimeProvider time, RegistrationOptions options, ILogger logger, LifecycleMetrics? metrics = null, ShutdownTrace? shutdownTrace = null)
    {
        _metrics = metrics;
        _shutdownTrace = shutdownTrace;
        _registry = registry;
        _time = time;
        _options = options;
        _logger = logger;
    }

    public IServiceRegistry Registry => _registry;

    /// <summary>Gets a task that completes the first time the registry accepts the registration.</summary>
    public Task Registered => _registered.Task;

    /// <summary>Gets a value indicating whether a registration was ever sent (it may have arrived even if the answer did not).</summary>
    public bool Attempted
    {
        get
        {
            lock (_gate)
            {
                return _attempted;
            }
        }
    }

    public void Start(ServiceInstance instance)
    {
        _instance = instance;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>
    /// Leaves the registry within <paramref name="timeout"/>: a call already in flight gets at most
    /// <paramref name="inFlightTimeout"/> of it to land and is then canceled; the deregistration has the rest, which
    /// the registry is told with the call (<paramref name="deregistration"/>). Idempotent.
    /// </summary>
    public Task LeaveAsync(TimeSpan inFlightTimeout, TimeSpan timeout, DeregistrationContext deregistration)
    {
        lock (_gate)
        {
            return _leave ??= LeaveCoreAsync(inFlightTimeout, timeout, deregistration);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _abortCalls.Cancel();
        _stop.Dispose();
        _abortCalls.Dispose();
    }

    private async Task LeaveCoreAsync(TimeSpan inFlightTimeout, TimeSpan timeout, DeregistrationContext deregistration)
    {
        var started = _time.GetTimestamp();
        using var deadline = new CancellationTokenSource(timeout, _time);
        await _stop.CancelAsync().ConfigureAwait(false);

        // A heartbeat already on the wire should land before the deregistration, never after it; but one that hangs
        // (a registry's request timeout is often longer than the whole deregistration budget) must not use up the time
        // of the deregistration itself, or nothing is ever sent. So it gets a bound of its own, then is canceled.
        await WaitForCallInFlightAsync(inFlightTimeout).ConfigureAwait(false);

        // Final once the loop is stopped (an attempt is marked under the lock that checks the stop): when nothing was ever
        // sent, nothing is sent now, and there is no call to trace.
        var call = Attempted ? Begin("deregister", _shutdownTrace?.Context ?? default) : null;
        try
        {
            // An adapter that ignores the cancellation of its call still holds the loop: wait for it within this budget.
            await _loop.WaitAsync(deadline.Token).ConfigureAwait(false);
            if (call is not null)
            {
                // Sent even when no attempt was ever accepted: one may have landed with its answer lost.
                await _registry.DeregisterAsync(deregistration, deadline.Token).ConfigureAwait(false);
                if (_confirmed)
                {
                    Log.Deregistered(_logger, _registry.Name, (long)_time.GetElapsedTime(started).TotalMilliseconds);
                    call.End();
                }
                else
                {
                    // Every attempt failed (refused connections, say) or the registration was lost and not made again:
                    // "deregistered" would claim a listing that was never confirmed and a removal nobody answered for.
                    Log.DeregistrationUnconfirmed(_logger, _registry.Name, (long)_time.GetElapsedTime(started).TotalMilliseconds);
                    call.End("unconfirmed", "No registration was ever accepted: nobody confirmed the removal.");
                }
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            Log.DeregistrationTimedOut(_logger, _registry.Name, timeout);
            call?.End("timeout", $"Not done within the deregistration timeout ({timeout}).");
        }
        catch (Exception ex)
        {
            Log.DeregistrationFailed(_logger, _registry.Name, ex);
            call?.End(ex);
        }
    }

    private async Task WaitForCallInFlightAsync(TimeSpan inFlightTimeout)
    {
        using var wait = new CancellationTokenSource(inFlightTimeout, _time);
        try
        {
            await _loop.WaitAsync(wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (wait.IsCancellationRequested)
        {
            Log.RegistryCallInFlightCanceled(_logger, _registry.Name, inFlightTimeout);
            await _abortCalls.CancelAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The loop ended on its own; the deregistration step waits on it again and reports what it finds.
        }
    }

    private async Task RunAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                if (!await RegisterWithRetriesAsync().ConfigureAwait(false))
                {
                    return;
                }

                _registered.TrySetResult();
                await RenewWhileRegisteredAsync().ConfigureAwait(false);
                Log.RegistrationLost(_logger, _registry.Name);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Leaving.
        }
    }

    /// <summary>Returns <see langword="false"/> when the registry cannot work as configured: retrying would never help.</summary>
    private async Task<bool> RegisterWithRetriesAsync()
    {
        var retryDelay = _options.RetryInitialDelay;
        for (var attempt = 1; ; attempt++)
        {
            lock (_gate)
            {
                // Checked under the lock LeaveAsync takes: once leaving has begun, no registration starts.
                _stop.Token.ThrowIfCancellationRequested();
                _attempted = true;
            }

            var call = Begin("register");
            try
            {
                await _registry.RegisterAsync(_instance!, _abortCalls.Token).ConfigureAwait(false);
                _confirmed = true;
                Log.Registered(_logger, _registry.Name, attempt, _registry.VisibilityDelay);
                call.End();
                return true;
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                call.End("canceled", "Leaving started.");
                throw;
            }
            catch (Exception ex) when (IsConfigurationError(ex))
            {
                call.End(ex);
                Log.RegistrationMisconfigured(_logger, _registry.Name, ex);
                _registered.TrySetException(ex);
                return false;
            }
            catch (Exception ex)
            {
                call.End(ex);
                Log.RegistrationFailed(_logger, _registry.Name, attempt, retryDelay, ex);
            }

            await Task.Delay(retryDelay, _time, _stop.Token).ConfigureAwait(false);
            retryDelay = TimeSpan.FromTicks(Math.Min(retryDelay.Ticks * 2, _options.RetryMaxDelay.Ticks));
        }
    }

    /// <summary>
    /// Starts timing and tracing one call: under <paramref name="parent"/> when given, else as a trace of its own (the
    /// loop runs for the life of the process: its calls are no child of whatever started it). The span is the ambient
    /// one of the calling async method, so the adapter's HTTP calls are its children.
    /// </summary>
    private Call Begin(string operation, ActivityContext parent = default)
    {
        var name = "GracefulLifecycle.RegistryCall";
        var display = $"{operation} {_registry.Name}";
        var tags = new ActivityTagsCollection
        {
            [LifecycleMetrics.RegistryAttribute] = _registry.Name,
            [LifecycleMetrics.OperationAttribute] = operation,
        };
        var activity = parent == default
            ? LifecycleTracing.StartRoot(name, display, tags, makeCurrent: true)
            : LifecycleTracing.StartChild(name, display, parent, tags);
        return new Call(this, operation, activity, _time.GetTimestamp());
    }

    /// <summary>One registry call being timed and traced; ended once.</summary>
    private sealed class Call(RegistrySession session, string operation, Activity? activity, long started)
    {
        public void End(string? errorType = null, string? description = null)
        {
            session._metrics?.RegistryOperation(session._registry.Name, operation, session._time.GetElapsedTime(started), errorType);
            if (errorType is not null)
            {
                LifecycleTracing.Failed(activity, errorType, description);
            }

            activity?.Stop();
        }

        public void End(Exception exception)
        {
            session._metrics?.RegistryOperation(session._registry.Name, operation, session._time.GetElapsedTime(started), LifecycleMetrics.ErrorType(exception));
            LifecycleTracing.Failed(activity, exception);
            activity?.Stop();
        }
    }

    // What adapters throw for a missing port, app name or server list (and HttpClient for an invalid URI): the same
    // on every attempt. A disposed object is a shutdown race, not a configuration error.
    private static bool IsConfigurationError(Exception ex) =>
        ex is (InvalidOperationException and not ObjectDisposedException) or Microsoft.Extensions.Options.OptionsValidationException or UriFormatException;

    /// <summary>Returns when the registration is lost; throws when leaving.</summary>
    private async Task RenewWhileRegisteredAsync()
    {
        var interval = _registry.RenewalInterval;
        while (true)
        {
            await Task.Delay(interval, _time, _stop.Token).ConfigureAwait(false);
            lock (_gate)
            {
                _stop.Token.ThrowIfCancellationRequested();
            }

            var call = Begin("renew");
            try
            {
                if (!await _registry.RenewAsync(_abortCalls.Token).ConfigureAwait(false))
                {
                    _confirmed = false;
                    call.End("registration_lost", "The registry no longer knows the instance; it registers again.");
                    return;
                }

                call.End();
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                call.End("canceled", "Leaving started.");
                throw;
            }
            catch (Exception ex)
            {
                call.End(ex);
                Log.RenewalFailed(_logger, _registry.Name, interval, ex);
            }
        }
    }
}
