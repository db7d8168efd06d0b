namespace GracefulLifecycle.Preload;

/// <summary>One preload task as registered through <c>AddPreload</c>.</summary>
internal sealed class PreloadRegistration(string name, Func<IServiceProvider, CancellationToken, Task> run, TimeSpan? timeout)
{
    public string Name { get; } = name;

    public Func<IServiceProvider, CancellationToken, Task> Run { get; } = run;

    /// <summary>Gets the task's own timeout, or <see langword="null"/> for <see cref="GracefulLifecycleOptions.PreloadTimeout"/>.</summary>
    public TimeSpan? Timeout { get; } = timeout;
}
