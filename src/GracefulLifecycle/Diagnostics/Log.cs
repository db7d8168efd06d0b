using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.Diagnostics;

/// <summary>Every log line of the library, with stable event ids (1-99).</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Lifecycle phase {Phase} (after {PreviousPhase} for {PreviousDurationMs} ms)", EventName = "PhaseChanged")]
    public static partial void PhaseChanged(ILogger logger, LifecyclePhase phase, LifecyclePhase previousPhase, long previousDurationMs);

    [LoggerMessage(2, LogLevel.Information,
        "Shutdown budget: deregistration {DeregistrationTimeout} + delay {ShutdownDelay} + drain {DrainTimeout} + margin {ShutdownMargin} = {Budget} of the {TerminationGracePeriod} termination grace period; host shutdown timeout {HostShutdownTimeout}",
        EventName = "ShutdownBudget")]
    public static partial void ShutdownBudget(ILogger logger, TimeSpan deregistrationTimeout, TimeSpan shutdownDelay, TimeSpan drainTimeout, TimeSpan shutdownMargin, TimeSpan budget, TimeSpan terminationGracePeriod, TimeSpan hostShutdownTimeout);

    [LoggerMessage(70, LogLevel.Information,
        "preStop sleep of {PreStopSleep} counted: after SIGTERM the shutdown delay is {DelayAfterSleep} (of {ShutdownDelay}); termination budget {Budget} of the {TerminationGracePeriod} grace period",
        EventName = "PreStopSleepCounted")]
    public static partial void PreStopSleepCounted(ILogger logger, TimeSpan preStopSleep, TimeSpan delayAfterSleep, TimeSpan shutdownDelay, TimeSpan budget, TimeSpan terminationGracePeriod);

    [LoggerMessage(3, LogLevel.Information, "Leaving ({Trigger}): readiness fails from now on; serving for {Delay} while load balancers and registries catch up", EventName = "LeavingStarted")]
    public static partial void LeavingStarted(ILogger logger, string trigger, TimeSpan delay);

    [LoggerMessage(4, LogLevel.Information, "Shutdown delay cut short after {ElapsedMs} ms by a second signal", EventName = "ShutdownDelaySkipped")]
    public static partial void ShutdownDelaySkipped(ILogger logger, long elapsedMs);

    [LoggerMessage(5, LogLevel.Information, "Shutdown delay of {Delay} elapsed", EventName = "ShutdownDelayElapsed")]
    public static partial void ShutdownDelayElapsed(ILogger logger, TimeSpan delay);

    [LoggerMessage(6, LogLevel.Information, "Draining: the server stops accepting connections; requests in flight: {InFlight}, units of work: {Work}, WebSockets open: {WebSockets}; drain timeout {DrainTimeout}; the Draining token fires", EventName = "DrainStarted")]
    public static partial void DrainStarted(ILogger logger, long inFlight, int work, int webSockets, TimeSpan drainTimeout);

    [LoggerMessage(7, LogLevel.Warning, "Drain timeout of {DrainTimeout} reached: aborting the requests still in flight: {Count}", EventName = "DrainTimedOut")]
    public static partial void DrainTimedOut(ILogger logger, TimeSpan drainTimeout, long count);

    [LoggerMessage(8, LogLevel.Information, "Drain finished in {ElapsedMs} ms; requests aborted: {Aborted}", EventName = "DrainCompleted")]
    public static partial void DrainCompleted(ILogger logger, long elapsedMs, long aborted);

    [LoggerMessage(9, LogLevel.Information, "Preloading: running the preload tasks: {Count}", EventName = "PreloadStarted")]
    public static partial void PreloadStarted(ILogger logger, int count);

    [LoggerMessage(10, LogLevel.Information, "Preload task {Name} completed in {ElapsedMs} ms", EventName = "PreloadTaskCompleted")]
    public static partial void PreloadTaskCompleted(ILogger logger, string name, long elapsedMs);

    [LoggerMessage(11, LogLevel.Critical, "Preload task {Name} failed after {ElapsedMs} ms; the application stops without reporting ready", EventName = "PreloadTaskFailed")]
    public static partial void PreloadTaskFailed(ILogger logger, string name, long elapsedMs, Exception exception);

    [LoggerMessage(12, LogLevel.Critical, "Preload task {Name} timed out after {Timeout}; the application stops without reporting ready", EventName = "PreloadTaskTimedOut")]
    public static partial void PreloadTaskTimedOut(ILogger logger, string name, TimeSpan timeout);

    [LoggerMessage(13, LogLevel.Information, "Preload canceled because shutdown started", EventName = "PreloadCanceled")]
    public static partial void PreloadCanceled(ILogger logger);

    [LoggerMessage(14, LogLevel.Information, "Received {Signal} (number {Count})", EventName = "SignalReceived")]
    public static partial void SignalReceived(ILogger logger, PosixSignal signal, int count);

    [LoggerMessage(15, LogLevel.Warning, "Refused {Method} {Path} from {RemoteAddress} on local port {LocalPort} with {StatusCode}: {Reason}", EventName = "PreStopRefused")]
    public static partial void PreStopRefused(ILogger logger, string method, string path, string remoteAddress, int localPort, int statusCode, string reason);

    [LoggerMessage(49, LogLevel.Warning, "More preStop calls refused in the last {Interval}: {Count}; the last: {Last}", EventName = "PreStopRefusalsSummarized")]
    public static partial void PreStopRefusalsSummarized(ILogger logger, long count, TimeSpan interval, string last);

    [LoggerMessage(16, LogLevel.Error, "A callback registered on the leaving token threw", EventName = "LeavingCallbackFailed")]
    public static partial void LeavingCallbackFailed(ILogger logger, Exception exception);

    [LoggerMessage(17, LogLevel.Warning, "PreStop:ManagementPort is {Port}, but the server does not listen on it ({Addresses}); the preStop endpoint cannot be reached", EventName = "ManagementPortNotListening")]
    public static partial void ManagementPortNotListening(ILogger logger, int port, string addresses);

    [LoggerMessage(18, LogLevel.Debug, "Signal handling is not supported on this platform; relying on the host's lifetime", EventName = "SignalsUnsupported")]
    public static partial void SignalsUnsupported(ILogger logger);

    [LoggerMessage(19, LogLevel.Information, "{Signal} ignored: the instance is already {Phase}", EventName = "SignalIgnored")]
    public static partial void SignalIgnored(ILogger logger, PosixSignal signal, LifecyclePhase phase);

    [LoggerMessage(20, LogLevel.Error, "A PhaseChanged handler threw", EventName = "PhaseChangedHandlerFailed")]
    public static partial void PhaseChangedHandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(21, LogLevel.Information, "Registered with {Registry} at attempt {Attempts}; visible to its consumers after {VisibilityDelay}", EventName = "Registered")]
    public static partial void Registered(ILogger logger, string registry, int attempts, TimeSpan visibilityDelay);

    [LoggerMessage(22, LogLevel.Warning, "Registration with {Registry} failed (attempt {Attempt}); retrying in {RetryDelay}", EventName = "RegistrationFailed")]
    public static partial void RegistrationFailed(ILogger logger, string registry, int attempt, TimeSpan retryDelay, Exception exception);

    [LoggerMessage(23, LogLevel.Warning, "{Registry} no longer knows this instance; registering again", EventName = "RegistrationLost")]
    public static partial void RegistrationLost(ILogger logger, string registry);

    [LoggerMessage(24, LogLevel.Warning, "Renewing the registration with {Registry} failed; trying again in {RenewalInterval}", EventName = "RenewalFailed")]
    public static partial void RenewalFailed(ILogger logger, string registry, TimeSpan renewalInterval, Exception exception);

    [LoggerMessage(25, LogLevel.Information, "Deregistered from {Registry} in {ElapsedMs} ms", EventName = "Deregistered")]
    public static partial void Deregistered(ILogger logger, string registry, long elapsedMs);

    [LoggerMessage(72, LogLevel.Warning, "Deregistration from {Registry} not confirmed: no registration attempt was accepted (every one failed, or the registration was lost and not made again), so the instance was not known to be listed; the deregistration call returned after {ElapsedMs} ms", EventName = "DeregistrationUnconfirmed")]
    public static partial void DeregistrationUnconfirmed(ILogger logger, string registry, long elapsedMs);

    [LoggerMessage(26, LogLevel.Warning, "Deregistration from {Registry} failed; it drops the instance when its lease expires", EventName = "DeregistrationFailed")]
    public static partial void DeregistrationFailed(ILogger logger, string registry, Exception exception);

    [LoggerMessage(27, LogLevel.Warning, "Deregistration from {Registry} did not finish within {Timeout}; going on with the shutdown", EventName = "DeregistrationTimedOut")]
    public static partial void DeregistrationTimedOut(ILogger logger, string registry, TimeSpan timeout);

    [LoggerMessage(28, LogLevel.Warning, "Not registered with {Registry} after {StartupTimeout}; reporting ready anyway and retrying in the background", EventName = "RegistrationStartupTimedOut")]
    public static partial void RegistrationStartupTimedOut(ILogger logger, string registry, TimeSpan startupTimeout);

    [LoggerMessage(29, LogLevel.Information, "Shutdown delay {ShutdownDelay} set by the propagation delay of {Registry}: {Propagation} (configured {ConfiguredDelay})", EventName = "ShutdownDelayFromRegistry")]
    public static partial void ShutdownDelayFromRegistry(ILogger logger, TimeSpan shutdownDelay, string registry, PropagationDelay propagation, TimeSpan configuredDelay);

    [LoggerMessage(84, LogLevel.Information, "Propagation delay of {Registry} {PropagationDelay}: {Propagation}; within the shutdown delay {ShutdownDelay}", EventName = "RegistryPropagationDelay")]
    public static partial void RegistryPropagationDelay(ILogger logger, string registry, TimeSpan propagationDelay, PropagationDelay propagation, TimeSpan shutdownDelay);

    [LoggerMessage(30, LogLevel.Information, "Registering with the service registries: {Count}", EventName = "RegisteringStarted")]
    public static partial void RegisteringStarted(ILogger logger, int count);

    [LoggerMessage(31, LogLevel.Warning, "PreStop:ManagementPort {Port} is the only check on the preStop endpoint: any pod that can reach that port can take this instance out of rotation. Add PreStop:Token or PreStop:AllowedNetworks, or a NetworkPolicy", EventName = "PreStopPortOnly")]
    public static partial void PreStopPortOnly(ILogger logger, int port);

    // The drain against clients that hold it: 32-39.
    [LoggerMessage(32, LogLevel.Warning, "Drain timeout of {DrainTimeout} reached: aborting the connections still open ({Count}), whether or not their request reached the application (unfinished headers, unread bodies, idle)", EventName = "ConnectionsAbortedAtDeadline")]
    public static partial void ConnectionsAbortedAtDeadline(ILogger logger, TimeSpan drainTimeout, int count);

    [LoggerMessage(33, LogLevel.Warning, "The liveness probe's failure window (LivenessProbe:Period {Period} x LivenessProbe:FailureThreshold {FailureThreshold} = {Window}) is shorter than the drain and the exit after it (DrainTimeout {DrainTimeout} + ShutdownMargin {ShutdownMargin}): probes are refused from the start of the drain, so a drain that no pod deletion started (a preStop call with no SIGTERM after it, a failed background service, a signal from inside the container) can be cut by a liveness restart. Raise the probe's periodSeconds or failureThreshold (and these options with them), or shorten the drain", EventName = "LivenessWindowShorterThanDrain")]
    public static partial void LivenessWindowShorterThanDrain(ILogger logger, TimeSpan period, int failureThreshold, TimeSpan window, TimeSpan drainTimeout, TimeSpan shutdownMargin);

    // Long-lived work: 40-59.
    // 40 (DrainingWork) was merged into 6 (DrainStarted): one line at the start of the drain. Not to be reused.

    [LoggerMessage(41, LogLevel.Warning, "Work {Name} still running after {ElapsedMs} ms at the drain deadline: abandoned, its Aborted token fires", EventName = "WorkAbandoned")]
    public static partial void WorkAbandoned(ILogger logger, string name, long elapsedMs);

    [LoggerMessage(42, LogLevel.Warning, "Work {Name} begun after the drain deadline: aborted at once", EventName = "WorkBegunAfterDeadline")]
    public static partial void WorkBegunAfterDeadline(ILogger logger, string name);

    [LoggerMessage(73, LogLevel.Warning, "Work {Name} was accepted but never started: the drain deadline stopped its worker first", EventName = "WorkNotStarted")]
    public static partial void WorkNotStarted(ILogger logger, string name);

    [LoggerMessage(74, LogLevel.Warning, "Units of accepted work never started before the drain deadline: {Count} ({Named} named above)", EventName = "WorkNotStartedCount")]
    public static partial void WorkNotStartedCount(ILogger logger, int count, int named);

    [LoggerMessage(43, LogLevel.Information, "All tracked work ended after {ElapsedMs} ms of drain", EventName = "WorkDrained")]
    public static partial void WorkDrained(ILogger logger, long elapsedMs);

    [LoggerMessage(44, LogLevel.Information, "Closing the WebSockets still open ({Count}) with 1001 (Going Away), {Delay} after the drain started", EventName = "WebSocketsClosing")]
    public static partial void WebSocketsClosing(ILogger logger, int count, TimeSpan delay);

    [LoggerMessage(45, LogLevel.Error, "A callback registered on the Draining token threw", EventName = "DrainingCallbackFailed")]
    public static partial void DrainingCallbackFailed(ILogger logger, Exception exception);

    [LoggerMessage(46, LogLevel.Critical, "Background service {Service} failed; the application stops", EventName = "WorkerFailed")]
    public static partial void WorkerFailed(ILogger logger, string service, Exception exception);

    [LoggerMessage(47, LogLevel.Warning, "Background service {Service} had not stopped at the drain deadline; no longer waiting for it", EventName = "WorkerAbandoned")]
    public static partial void WorkerAbandoned(ILogger logger, string service);

    [LoggerMessage(48, LogLevel.Warning, "The host lifetime is {Lifetime}, which stops the host at the signal: the shutdown delay is still served, but ApplicationStopping (SignalR, other libraries) fires at the signal instead of at the drain", EventName = "ForeignHostLifetime")]
    public static partial void ForeignHostLifetime(ILogger logger, string lifetime);

    // 60-89: trust and faults.
    [LoggerMessage(60, LogLevel.Warning, "Running in Kubernetes with only the loopback rule guarding the preStop endpoint: every container of the pod, and under a service mesh (Istio from 127.0.0.6, Linkerd from 127.0.0.1) every client of the pod, can take this instance out of rotation. Set PreStop:Token (sent by the preStop hook's httpHeaders) or PreStop:ManagementPort", EventName = "PreStopLoopbackOnlyInKubernetes")]
    public static partial void PreStopLoopbackOnlyInKubernetes(ILogger logger);

    [LoggerMessage(61, LogLevel.Warning, "No stop followed the preStop call within {Wait}: stopping the application (drain, exit 0) rather than staying out of rotation with liveness passing", EventName = "NoStopAfterPreStop")]
    public static partial void NoStopAfterPreStop(ILogger logger, TimeSpan wait);

    [LoggerMessage(69, LogLevel.Information, "POSIX signals are not handled: GracefulLifecycle:HandleSignals is false (a test host)", EventName = "SignalsNotHandled")]
    public static partial void SignalsNotHandled(ILogger logger);

    [LoggerMessage(64, LogLevel.Warning, "No stop followed the preStop call within {Wait}: rejoining (PreStop:WhenNoStopFollows is Rejoin)", EventName = "NoStopAfterPreStopRejoining")]
    public static partial void NoStopAfterPreStopRejoining(ILogger logger, TimeSpan wait);

    [LoggerMessage(65, LogLevel.Information, "Rejoining: a new Leaving token, background services start again, registering again before readiness passes", EventName = "Rejoining")]
    public static partial void Rejoining(ILogger logger);

    [LoggerMessage(66, LogLevel.Information, "Rejoined: ready again after {ElapsedMs} ms", EventName = "Rejoined")]
    public static partial void Rejoined(ILogger logger, long elapsedMs);

    [LoggerMessage(67, LogLevel.Warning, "Cannot rejoin: {Reason}; stopping instead", EventName = "RejoinRefused")]
    public static partial void RejoinRefused(ILogger logger, string reason);

    [LoggerMessage(68, LogLevel.Error, "Registering again after the rejoin failed; the application stops", EventName = "RejoinFailed")]
    public static partial void RejoinFailed(ILogger logger, Exception exception);

    [LoggerMessage(62, LogLevel.Warning, "A call to {Registry} still in flight after {InFlightCallTimeout} was canceled so the deregistration can be sent", EventName = "RegistryCallInFlightCanceled")]
    public static partial void RegistryCallInFlightCanceled(ILogger logger, string registry, TimeSpan inFlightCallTimeout);

    [LoggerMessage(63, LogLevel.Critical, "Registration with {Registry} cannot work as configured; not retrying: the application stops without reporting ready", EventName = "RegistrationMisconfigured")]
    public static partial void RegistrationMisconfigured(ILogger logger, string registry, Exception exception);
}
