using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Lifecycle;

/// <summary>
/// Ends the process with exit code 1 and the validation messages on standard error when invalid options stop the
/// host from starting. Left alone, the <see cref="OptionsValidationException"/> escapes <c>app.Run()</c> unhandled, and
/// the runtime aborts: exit 134 (SIGABRT) and a crash report, which reads as a crash, not as a configuration error, to
/// an orchestrator, a supervisor or an operator. The options are first read while the host is built
/// (<c>builder.Build()</c> resolves the host's options, which the budget raises), before any hook of a host runs, so the
/// exit is armed by <c>AddGracefulLifecycle</c> and disarmed once the host has started. Only that exception is
/// handled, and only when nothing caught it: an application that catches it itself never gets here.
/// </summary>
internal static class InvalidOptionsExit
{
    private static int s_armed;

    public static void Arm()
    {
        if (Interlocked.Exchange(ref s_armed, 1) == 0)
        {
            AppDomain.CurrentDomain.UnhandledException += OnUnhandledException;
        }
    }

    public static void Disarm()
    {
        if (Interlocked.Exchange(ref s_armed, 0) == 1)
        {
            AppDomain.CurrentDomain.UnhandledException -= OnUnhandledException;
        }
    }

    /// <summary>Gets the failures when <paramref name="exception"/> is nothing but failed options validation, else null.</summary>
    internal static List<string>? Failures(object exception)
    {
        var failures = new List<string>();
        var inner = exception is AggregateException aggregate ? aggregate.Flatten().InnerExceptions : [(Exception)exception];
        foreach (var e in inner)
        {
            if (e is not OptionsValidationException validation)
            {
                return null;
            }

            failures.AddRange(validation.Failures);
        }

        return failures.Count == 0 ? null : failures;
    }

    private static void OnUnhandledException(object? sender, UnhandledExceptionEventArgs e)
    {
        if (e.ExceptionObject is not Exception exception || Failures(exception) is not { } failures)
        {
            return;
        }

        var error = Console.Error;
        error.WriteLine("The application did not start: invalid options (exit code 1).");
        foreach (var failure in failures)
        {
            error.WriteLine("  " + failure);
        }

        error.Flush();

        // Exit here, while the runtime still waits on this handler: returning lets it abort the process.
        Environment.Exit(1);
    }
}
