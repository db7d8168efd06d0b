namespace GracefulLifecycle.Lifecycle;

/// <summary>Where a failed startup records the process exit code; tests swap it for a recorder.</summary>
internal sealed class ProcessExitCode(Action<int> set)
{
    public static ProcessExitCode Environment { get; } = new(static code => System.Environment.ExitCode = code);

    public void Set(int code) => set(code);
}
