using GracefulLifecycle.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Registration;

/// <summary>Every configured registry, registered and left together.</summary>
internal sealed class RegistrySet : IDisposable
{
    private readonly RegistrySession[] _sessions;
    private readonly TimeProvider _time;
    private readonly RegistrationOptions _options;
    private readonly ILogger _logger;

    public RegistrySet(
        IEnumerable<IServiceRegistry> registries, TimeProvider time, IOptions<GracefulLifecycleOptions> options, ILogger<RegistrySet> logger, LifecycleMetrics? metrics = null)
    {
        _time = time;
        _options = options.Value.Registration;
        _logger = logger;
        _sessions = registries.Select(r => new RegistrySession(r, time, _options, logger, metrics)).ToArray();
    }

    public bool IsEmpty => _sessions.Length == 0;

    /// <summary>Gets a value indicating whether any registry may have been told about this instance.</summary>
    public bool AnyAttempted => _sessions.Any(s => s.Attempted);

    /// <summary>
    /// Registers with every registry and returns once all have accepted and the largest of their visibility delays
    /// has passed; when registration is not required, returns after <see cref="RegistrationOptions.StartupTimeout"/>
    /// at the latest while the unreachable ones keep retrying.
    /// </summary>
    public async Task RegisterAsync(CancellationToken cancellationToken)
    {
        Log.RegisteringStarted(_logger, _sessions.Length);
        foreach (var session in _sessions)
        {
            session.Start();
        }

        var all = Task.WhenAll(_sessions.Select(s => s.Registered));
        if (_options.Required)
        {
            await all.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            using (var startupTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                await Task.WhenAny(all, Task.Delay(_options.StartupTimeout, _time, startupTimeout.Token)).ConfigureAwait(false);
                await startupTimeout.CancelAsync().ConfigureAwait(false);
            }

            cancellationToken.ThrowIfCancellationRequested();
            if (all.IsFaulted)
            {
                // A registry that cannot work as configured: fail the startup now rather than retry forever.
                await all.ConfigureAwait(false);
            }

            foreach (var session in _sessions.Where(s => !s.Registered.IsCompleted))
            {
                Log.RegistrationStartupTimedOut(_logger, session.Registry.Name, _options.StartupTimeout);
            }
        }

        var visibility = _sessions.Where(s => s.Registered.IsCompleted).Select(s => s.Registry.VisibilityDelay).DefaultIfEmpty().Max();
        if (visibility > TimeSpan.Zero)
        {
            await Task.Delay(visibility, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Leaves every registry at once, each bounded by the in-flight call timeout, then the deregistration timeout.</summary>
    public Task LeaveAsync() => Task.WhenAll(_sessions.Select(s => s.LeaveAsync(_options.InFlightCallTimeout, _options.DeregistrationTimeout)));

    public void Dispose()
    {
        foreach (var session in _sessions)
        {
            session.Dispose();
        }
    }
}
