using System.Runtime.InteropServices;

namespace GracefulLifecycle.Lifecycle;

/// <summary>
/// Listens for SIGTERM, SIGINT and SIGQUIT beside the host's own lifetime. The host's handler stops the application
/// at the first signal; this one makes readiness fail at that same instant and lets a second signal cut the
/// shutdown delay short.
/// </summary>
internal sealed class SignalListener : IDisposable
{
    private static readonly PosixSignal[] Signals = [PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGQUIT];

    private readonly List<PosixSignalRegistration> _registrations = [];

    private SignalListener()
    {
    }

    /// <summary>Registers the handlers, or returns <see langword="null"/> where the platform has no such signals.</summary>
    public static SignalListener? TryListen(LifecycleCoordinator lifecycle)
    {
        if (OperatingSystem.IsBrowser() || OperatingSystem.IsIOS() || OperatingSystem.IsTvOS() || OperatingSystem.IsAndroid())
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
