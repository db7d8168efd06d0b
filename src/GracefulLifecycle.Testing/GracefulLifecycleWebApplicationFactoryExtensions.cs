using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.Testing;

/// <summary>GracefulLifecycle in <see cref="WebApplicationFactory{TEntryPoint}"/> tests.</summary>
public static class GracefulLifecycleWebApplicationFactoryExtensions
{
    /// <summary>The default time <see cref="WaitUntilReadyAsync"/> and <see cref="LeaveAsync"/> wait.</summary>
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Returns a factory whose host runs the lifecycle for tests: see
    /// <see cref="GracefulLifecycleTestingServiceCollectionExtensions.AddGracefulLifecycleTesting"/>.
    /// </summary>
    /// <typeparam name="TEntryPoint">The application's entry point.</typeparam>
    /// <param name="factory">The factory.</param>
    /// <param name="configure">Sets the test options; may be <see langword="null"/>.</param>
    /// <returns>A new factory; dispose it as the original.</returns>
    public static WebApplicationFactory<TEntryPoint> WithGracefulLifecycleTesting<TEntryPoint>(
        this WebApplicationFactory<TEntryPoint> factory, Action<GracefulLifecycleTestOptions>? configure = null)
        where TEntryPoint : class
    {
        ArgumentNullException.ThrowIfNull(factory);
        return factory.WithWebHostBuilder(builder => builder.ConfigureTestServices(services => services.AddGracefulLifecycleTesting(configure)));
    }

    /// <summary>Gets the application's lifecycle, starting the host if it has not started.</summary>
    /// <typeparam name="TEntryPoint">The application's entry point.</typeparam>
    /// <param name="factory">The factory.</param>
    /// <returns>The lifecycle.</returns>
    public static IGracefulLifecycle GetGracefulLifecycle<TEntryPoint>(this WebApplicationFactory<TEntryPoint> factory)
        where TEntryPoint : class
    {
        ArgumentNullException.ThrowIfNull(factory);
        return factory.Services.GetRequiredService<IGracefulLifecycle>();
    }

    /// <summary>
    /// Starts the host if needed and waits until the instance is ready (preload done, registries joined). With a fake
    /// clock, move it forward while this waits if preload or registration waits on it.
    /// </summary>
    /// <typeparam name="TEntryPoint">The application's entry point.</typeparam>
    /// <param name="factory">The factory.</param>
    /// <param name="timeout">How long to wait; 30 seconds if <see langword="null"/>.</param>
    /// <returns>A task that completes when the instance is ready.</returns>
    /// <exception cref="TimeoutException">Not ready in time; the message names the phase it is in.</exception>
    /// <exception cref="InvalidOperationException">It will never be ready: a preload task failed, or it left first.</exception>
    public static async Task WaitUntilReadyAsync<TEntryPoint>(this WebApplicationFactory<TEntryPoint> factory, TimeSpan? timeout = null)
        where TEntryPoint : class
    {
        IGracefulLifecycle lifecycle;
        try
        {
            lifecycle = factory.GetGracefulLifecycle();
        }
        catch (ObjectDisposedException ex)
        {
            // A preload task that fails at once stops the host before the test gets here.
            throw new InvalidOperationException("The application stopped before it became ready (a preload task failed, or the host was stopped).", ex);
        }

        var wait = timeout ?? DefaultTimeout;
        try
        {
            await lifecycle.Ready.WaitAsync(wait).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"The instance was not ready after {wait}; it is in phase {lifecycle.Phase}.");
        }
        catch (OperationCanceledException ex)
        {
            throw new InvalidOperationException($"The instance will not become ready: it started leaving first (phase {lifecycle.Phase}).", ex);
        }
    }

    /// <summary>
    /// Starts leaving exactly as <c>/prestop</c> does (readiness fails, registries are left, the delay is served) and
    /// waits until the delay is over. The host keeps running until the factory is disposed.
    /// </summary>
    /// <typeparam name="TEntryPoint">The application's entry point.</typeparam>
    /// <param name="factory">The factory.</param>
    /// <param name="timeout">How long to wait; 30 seconds if <see langword="null"/>.</param>
    /// <returns>A task that completes when the shutdown delay has been served.</returns>
    public static Task LeaveAsync<TEntryPoint>(this WebApplicationFactory<TEntryPoint> factory, TimeSpan? timeout = null)
        where TEntryPoint : class => factory.GetGracefulLifecycle().LeaveAsync().WaitAsync(timeout ?? DefaultTimeout);
}
