using GracefulLifecycle.Diagnostics;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Registration;

/// <summary>
/// One registry's registration: register with retries and backoff, renew while registered, register again when
/// the registration is lost, and on leaving stop the loop, let a call already in flight finish, then deregister.
/// Nothing is sent after the deregistration: a late heartbeat would register the instance again.
/// </summary>
internal sealed class RegistrySession : IDisposable
{
    private readonly IServiceRegistry _registry;
    private readonly TimeProvider _time;
    private readonly RegistrationOptions _options;
    private readonly ILogger _logger;
    private readonly LifecycleMetrics? _metrics;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _abortCalls = new();
    private readonly TaskCompletionSource _registered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _loop = Task.CompletedTask;
    private ServiceInstance? _instance;
    private Task? _leave;
    private bool _attempted;
    private volatile bool _confirmed;

    public RegistrySession(IServiceRegistry registry, TimeProvider time, RegistrationOptions options, ILogger logger, LifecycleMetrics? metrics = null)
    {
        _metrics = metrics;
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

        try
        {
            // An adapter that ignores the cancellation of its call still holds the loop: wait for it within this budget.
            await _loop.WaitAsync(deadline.Token).ConfigureAwait(false);
            if (Attempted)
            {
                // Sent even when no attempt was ever accepted: one may have landed with its answer lost.
                await _registry.DeregisterAsync(deregistration, deadline.Token).ConfigureAwait(false);
                if (_confirmed)
                {
                    Log.Deregistered(_logger, _registry.Name, (long)_time.GetElapsedTime(started).TotalMilliseconds);
                    Count("deregister", "success");
                }
                else
                {
                    // Every attempt failed (refused connections, say) or the registration was lost and not made again:
                    // "deregistered" would claim a listing that was never confirmed and a removal nobody answered for.
                    Log.DeregistrationUnconfirmed(_logger, _registry.Name, (long)_time.GetElapsedTime(started).TotalMilliseconds);
                    Count("deregister", "unconfirmed");
                }
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            Log.DeregistrationTimedOut(_logger, _registry.Name, timeout);
            Count("deregister", "timeout");
        }
        catch (Exception ex)
        {
            Log.DeregistrationFailed(_logger, _registry.Name, ex);
            Count("deregister", "failure");
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

            try
            {
                await _registry.RegisterAsync(_instance!, _abortCalls.Token).ConfigureAwait(false);
                _confirmed = true;
                Log.Registered(_logger, _registry.Name, attempt, _registry.VisibilityDelay);
                Count("register", "success");
                return true;
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                Count("register", "canceled");
                throw;
            }
            catch (Exception ex) when (IsConfigurationError(ex))
            {
                Count("register", "failure");
                Log.RegistrationMisconfigured(_logger, _registry.Name, ex);
                _registered.TrySetException(ex);
                return false;
            }
            catch (Exception ex)
            {
                Count("register", "failure");
                Log.RegistrationFailed(_logger, _registry.Name, attempt, retryDelay, ex);
            }

            await Task.Delay(retryDelay, _time, _stop.Token).ConfigureAwait(false);
            retryDelay = TimeSpan.FromTicks(Math.Min(retryDelay.Ticks * 2, _options.RetryMaxDelay.Ticks));
        }
    }

    private void Count(string operation, string outcome) => _metrics?.RegistryOperation(_registry.Name, operation, outcome);

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

            try
            {
                if (!await _registry.RenewAsync(_abortCalls.Token).ConfigureAwait(false))
                {
                    _confirmed = false;
                    Count("renew", "lost");
                    return;
                }

                Count("renew", "success");
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                Count("renew", "canceled");
                throw;
            }
            catch (Exception ex)
            {
                Count("renew", "failure");
                Log.RenewalFailed(_logger, _registry.Name, interval, ex);
            }
        }
    }
}
