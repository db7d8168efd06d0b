using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Lifecycle;

/// <summary>
/// Takes the place of the host's <c>ConsoleLifetime</c>. That lifetime stops the host the instant SIGTERM or Ctrl+C
/// arrives, which fires <c>ApplicationStopping</c> while load balancers still route here; SignalR closes every
/// connection on that event, so clients reconnect to an instance still in its shutdown delay. Here the signals are
/// handled by <see cref="SignalListener"/>, which leaves first and stops the host when the delay has been served.
/// The status lines are the console lifetime's own, under its logging category, so nothing that reads them changes.
/// </summary>
internal sealed partial class LifecycleHostLifetime(
    IOptions<ConsoleLifetimeOptions> options,
    IHostEnvironment environment,
    IHostApplicationLifetime applicationLifetime,
    ILoggerFactory loggerFactory) : IHostLifetime, IDisposable
{
    private readonly ILogger _logger = loggerFactory.CreateLogger("Microsoft.Hosting.Lifetime");
    private CancellationTokenRegistration _started;
    private CancellationTokenRegistration _stopping;

    public Task WaitForStartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.SuppressStatusMessages)
        {
            _started = applicationLifetime.ApplicationStarted.Register(static state => ((LifecycleHostLifetime)state!).OnStarted(), this);
            _stopping = applicationLifetime.ApplicationStopping.Register(static state => ((LifecycleHostLifetime)state!).OnStopping(), this);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        _started.Dispose();
        _stopping.Dispose();
    }

    private void OnStarted()
    {
        ApplicationStarted(_logger);
        HostingEnvironment(_logger, environment.EnvironmentName);
        ContentRoot(_logger, environment.ContentRootPath);
    }

    private void OnStopping() => ShuttingDown(_logger);

    // The console lifetime's own messages, kept word for word.
    [LoggerMessage(LogLevel.Information, "Application started. Press Ctrl+C to shut down.")]
    private static partial void ApplicationStarted(ILogger logger);

    [LoggerMessage(LogLevel.Information, "Hosting environment: {EnvName}")]
    private static partial void HostingEnvironment(ILogger logger, string envName);

    [LoggerMessage(LogLevel.Information, "Content root path: {ContentRoot}")]
    private static partial void ContentRoot(ILogger logger, string contentRoot);

    [LoggerMessage(LogLevel.Information, "Application is shutting down...")]
    private static partial void ShuttingDown(ILogger logger);
}
