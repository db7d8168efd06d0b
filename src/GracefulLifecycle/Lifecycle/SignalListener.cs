using System.Runtime.InteropServices;

namespace GracefulLifecycle.Lifecycle;

/// <summary>
/// Listens for SIGTERM, SIGINT, SIGQUIT and SIGHUP in place of the host's console lifetime (see
/// <see cref="LifecycleHostLifetime"/>): the first signal makes readiness fail at that instant and stops the host once
/// the shutdown delay is served; a second one cuts the delay short.
/// </summary>
/// <remarks>
/// SIGHUP (the controlling terminal hung up: an SSH session or a <c>docker run -it</c> terminal closed, or a
/// <c>kill -HUP</c>) ends the process at once by default, cutting every request in flight, and the console lifetime
/// does not handle it. Its default action is to terminate, so it is taken as a request to stop, and stops gracefully like
/// SIGTERM rather than being ignored: a process left running with its terminal gone, or told to "reload" (which
/// ASP.NET Core does through its configuration providers, not a signal), would keep serving with nobody expecting it to.
/// A process started with SIGHUP ignored (<c>nohup</c>) keeps it ignored: the runtime installs no handler for an
/// ignored signal.
/// </remarks>
internal sealed class SignalListener : IDisposable
{
    private static readonly PosixSignal[] Signals = [PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGQUIT, PosixSignal.SIGHUP];

    private readonly List<PosixSignalRegistration> _registrations = [];

    private SignalListener()
    {
    }

    /// <summary>Gets a value indicating whether the platform has these signals.</summary>
    public static bool IsSupported =>
        !(OperatingSystem.IsBrowser() || OperatingSystem.IsIOS() || OperatingSystem.IsTvOS() || OperatingSystem.IsAndroid());

    /// <summary>Registers the handlers, or returns <see langword="null"/> where the platform has no such signals.</summary>
    public static SignalListener? TryListen(LifecycleCoordinator lifecycle)
    {
        if (!IsSupported)
        {
            return null;
        }

        var listener = new SignalListener();
        try
        {
            foreach (var signal in Signals)
            {
                listener._registrations.Add(PosixSignalRegistration.Create(signal, context =>
                {
                    // Never let the runtime's default action end the process: the shutdown sequence does.
                    context.Cancel = true;
                    lifecycle.OnSignal(context.Signal);
                }));
            }
        }
        catch (PlatformNotSupportedException)
        {
            listener.Dispose();
            return null;
        }

        return listener;
    }

    public void Dispose()
    {
        // The host may stop twice at once (a WebApplicationFactory disposing while Run() returns): dispose once.
        lock (_registrations)
        {
            foreach (var registration in _registrations)
            {
                registration.Dispose();
            }

            _registrations.Clear();
        }
    }
}
