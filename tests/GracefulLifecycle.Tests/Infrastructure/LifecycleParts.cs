using GracefulLifecycle.Draining;
using GracefulLifecycle.Lifecycle;
using GracefulLifecycle.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.Tests.Infrastructure;

/// <summary>
/// The parts of the lifecycle the core's tests reach, each resolved by its internal contract from the services of
/// <see cref="LifecycleTestServices"/>: a test of the phase reads the read-only state, a test of a trigger (a signal,
/// the host's stop, <c>LeaveAsync</c>) goes through the facade that takes them.
/// </summary>
internal static class LifecycleParts
{
    extension(LifecycleTestServices h)
    {
        /// <summary>Gets the facade: every trigger enters here, as in the application.</summary>
        public LifecycleCoordinator Coordinator => h.Services.GetRequiredService<LifecycleCoordinator>();

        /// <summary>Gets the phase as the request path, the probes and the health check read it.</summary>
        public ILifecycleState State => h.Services.GetRequiredService<ILifecycleState>();

        public RequestTracker Requests => h.Services.GetRequiredService<RequestTracker>();
    }
}
