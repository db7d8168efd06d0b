using GracefulLifecycle.Diagnostics;
using GracefulLifecycle.Hosting;
using GracefulLifecycle.Shutdown;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Registration;

/// <summary>Every configured registry, registered and left together.</summary>
internal sealed class RegistrySet : IDisposable
{
    private readonly TimeProvider _time;
    private readonly RegistrationOptions _options;
    private readonly ShutdownPlan _plan;
    private readonly ILogger _logger;
    private readonly InstanceAddress _address;
    private readonly LifecycleMetrics? _metrics;

    // Replaced, never changed in place, when the instance registers again after a leave (a rejoin).
    private RegistrySession[] _sessions;

    public RegistrySet(
        IEnumerable<IServiceRegistry> registries,
        TimeProvider time,
        IOptions<GracefulLifecycleOptions> options,
        ShutdownPlan plan,
        InstanceAddress address,
        ILogger<RegistrySet> logger,
        LifecycleMetrics? metrics = null)
    {
        _address = address;
        _time = time;
        _options = options.Value.Registration;
        _plan = plan;
        _logger = logger;
        _metrics = metrics;
        _sessions = registries.Select(NewSession).ToArray();
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

        // Once, for every registry and every attempt: they all register the same address.
        var instance = _address.Describe();
        foreach (var session in _sessions)
        {
            session.Start(instance);
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

    /// <summary>
    /// Registers again after a leave that ended in a rejoin: the sessions that left are done for good (nothing is sent
    /// after a deregistration), so each registry gets a new one.
    /// </summary>
    public Task RegisterAgainAsync(CancellationToken cancellationToken)
    {
        // The old sessions are not disposed: a renewal loop of theirs may still be winding down on their tokens, and
        // their sources hold no timer, so dropping them is enough.
        Volatile.Write(ref _sessions, _sessions.Select(s => NewSession(s.Registry)).ToArray());
        return RegisterAsync(cancellationToken);
    }

    /// <summary>
    /// Leaves every registry at once, each bounded by the in-flight call timeout, then the deregistration timeout; each
    /// registry is told the time its call is given.
    /// </summary>
    public Task LeaveAsync()
    {
        var deregistration = new DeregistrationContext(_plan.DeregistrationCallBudget);
        return Task.WhenAll(_sessions.Select(s => s.LeaveAsync(_plan.InFlightCallTimeout, _plan.DeregistrationTimeout, deregistration)));
    }

    private RegistrySession NewSession(IServiceRegistry registry) => new(registry, _time, _options, _logger, _metrics);

    public void Dispose()
    {
        foreach (var session in _sessions)
        {
            session.Dispose();
        }
    }
}
