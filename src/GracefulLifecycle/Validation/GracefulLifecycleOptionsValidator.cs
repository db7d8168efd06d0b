using System.Net;
using GracefulLifecycle.Endpoints;
using GracefulLifecycle.Shutdown;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Validation;

/// <summary>Checks the options at startup; every message names the configuration key at fault.</summary>
/// <remarks>
/// The budget is checked here on the options alone (the registries can only raise it); with the registries' delays
/// it is checked again by <see cref="ShutdownBudget"/>, where the container builds them like any other service, so a
/// registry may depend on these very options.
/// </remarks>
internal sealed class GracefulLifecycleOptionsValidator : IValidateOptions<GracefulLifecycleOptions>
{
    private const string Prefix = GracefulLifecycleOptions.SectionName + ":";

    // The longest due time a timer (Task.Delay, CancellationTokenSource, TimeProvider.CreateTimer) accepts.
    private static readonly TimeSpan MaxTimer = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    public ValidateOptionsResult Validate(string? name, GracefulLifecycleOptions options)
    {
        var failures = new List<string>();

        RequireAtLeast(failures, nameof(options.ShutdownDelay), options.ShutdownDelay, TimeSpan.Zero);
        RequirePositive(failures, nameof(options.DrainTimeout), options.DrainTimeout);
        RequirePositive(failures, nameof(options.TerminationGracePeriod), options.TerminationGracePeriod);
        RequireAtLeast(failures, nameof(options.ShutdownMargin), options.ShutdownMargin, TimeSpan.Zero);
        RequirePositive(failures, nameof(options.PreloadTimeout), options.PreloadTimeout);
        RequireAtLeast(failures, nameof(options.WebSocketCloseDelay), options.WebSocketCloseDelay, TimeSpan.Zero);
        if (options.WebSocketCloseDelay >= options.DrainTimeout && options.DrainTimeout > TimeSpan.Zero)
        {
            failures.Add(
                $"{Prefix}{nameof(options.WebSocketCloseDelay)} ({options.WebSocketCloseDelay}) must be less than {Prefix}{nameof(options.DrainTimeout)} " +
                $"({options.DrainTimeout}): WebSockets would be aborted before the library closes them. Lower it, or raise the drain timeout.");
        }

        var registration = options.Registration;
        RequirePositive(failures, "Registration:" + nameof(registration.StartupTimeout), registration.StartupTimeout);
        RequirePositive(failures, "Registration:" + nameof(registration.DeregistrationTimeout), registration.DeregistrationTimeout);
        RequireAtLeast(failures, "Registration:" + nameof(registration.InFlightCallTimeout), registration.InFlightCallTimeout, TimeSpan.Zero);
        if (registration.InFlightCallTimeout >= registration.DeregistrationTimeout && registration.DeregistrationTimeout > TimeSpan.Zero)
        {
            // Trust and faults: the wait for a call in flight is carved out of the deregistration budget.
            failures.Add(
                $"{Prefix}Registration:{nameof(registration.InFlightCallTimeout)} ({registration.InFlightCallTimeout}) must be shorter than " +
                $"{Prefix}Registration:{nameof(registration.DeregistrationTimeout)} ({registration.DeregistrationTimeout}): the deregistration itself would have no time left. " +
                "Lower the first or raise the second.");
        }
        RequirePositive(failures, "Registration:" + nameof(registration.RetryInitialDelay), registration.RetryInitialDelay);
        if (registration.RetryMaxDelay < registration.RetryInitialDelay)
        {
            failures.Add($"{Prefix}Registration:{nameof(registration.RetryMaxDelay)} ({registration.RetryMaxDelay}) must be at least {Prefix}Registration:{nameof(registration.RetryInitialDelay)} ({registration.RetryInitialDelay}).");
        }

        // Trust and faults: every duration ends up in a timer, which takes at most uint.MaxValue - 1 ms (~49.7 days);
        // beyond that it throws at run time (a /prestop call would then never answer) instead of here.
        CheckTimerRange(failures, nameof(options.ShutdownDelay), options.ShutdownDelay);
        CheckTimerRange(failures, nameof(options.DrainTimeout), options.DrainTimeout);
        CheckTimerRange(failures, nameof(options.TerminationGracePeriod), options.TerminationGracePeriod);
        CheckTimerRange(failures, nameof(options.ShutdownMargin), options.ShutdownMargin);
        CheckTimerRange(failures, nameof(options.PreloadTimeout), options.PreloadTimeout);
        RequireAtLeast(failures, "PreStop:" + nameof(options.PreStop.Sleep), options.PreStop.Sleep, TimeSpan.Zero);
        CheckTimerRange(failures, "PreStop:" + nameof(options.PreStop.Sleep), options.PreStop.Sleep);
        CheckTimerRange(failures, "Registration:" + nameof(registration.StartupTimeout), registration.StartupTimeout);
        CheckTimerRange(failures, "Registration:" + nameof(registration.DeregistrationTimeout), registration.DeregistrationTimeout);
        CheckTimerRange(failures, "Registration:" + nameof(registration.InFlightCallTimeout), registration.InFlightCallTimeout);
        CheckTimerRange(failures, "Registration:" + nameof(registration.RetryInitialDelay), registration.RetryInitialDelay);
        CheckTimerRange(failures, "Registration:" + nameof(registration.RetryMaxDelay), registration.RetryMaxDelay);

        if (failures.Count == 0 && ShutdownBudget.Check(new ShutdownPlan(options, [])) is { } budget)
        {
            failures.Add(budget);
        }

        var paths = new Dictionary<string, (string Option, string Path)>(StringComparer.OrdinalIgnoreCase);
        CheckPath(failures, paths, nameof(options.LivenessPath), options.LivenessPath);
        CheckPath(failures, paths, nameof(options.ReadinessPath), options.ReadinessPath);
        CheckPath(failures, paths, nameof(options.PreStopPath), options.PreStopPath);

        RequireText(failures, nameof(options.LivenessTag), options.LivenessTag);
        RequireText(failures, nameof(options.ReadinessTag), options.ReadinessTag);

        var preStop = options.PreStop;
        if (preStop.ManagementPort is { } port && (port < 1 || port > 65535))
        {
            failures.Add($"{Prefix}PreStop:{nameof(preStop.ManagementPort)} must be a TCP port from 1 to 65535 (was {port}).");
        }

        if (preStop.Token is not null && string.IsNullOrWhiteSpace(preStop.Token))
        {
            failures.Add($"{Prefix}PreStop:{nameof(preStop.Token)} must not be blank; remove it to disable the token check.");
        }

        else if (preStop.Token is { } token && token.Any(static c => c is < '!' or > '~'))
        {
            // The value itself stays out of the message: it is a secret.
            failures.Add(
                $"{Prefix}PreStop:{nameof(preStop.Token)} contains a space, a control character or a character outside ASCII: " +
                "HTTP clients, proxies and Kestrel trim, alter or refuse these in a header, so callers would be refused. Use printable ASCII without spaces, such as a random hex or base64 string.");
        }

        RequireText(failures, "PreStop:" + nameof(preStop.TokenHeaderName), preStop.TokenHeaderName);
        if (!string.IsNullOrWhiteSpace(preStop.TokenHeaderName) && !preStop.TokenHeaderName.All(IsHeaderNameChar))
        {
            failures.Add(
                $"{Prefix}PreStop:{nameof(preStop.TokenHeaderName)} ('{preStop.TokenHeaderName}') is not a valid HTTP header name, so every caller would be refused: " +
                "use letters, digits and !#$%&'*+-.^_`|~ only (RFC 9110 token), such as X-PreStop-Token.");
        }

        for (var i = 0; i < preStop.AllowedNetworks.Count; i++)
        {
            if (!IPNetwork.TryParse(preStop.AllowedNetworks[i], out _))
            {
                failures.Add(
                    $"{Prefix}PreStop:{nameof(preStop.AllowedNetworks)}:{i} ('{preStop.AllowedNetworks[i]}') is not a network in CIDR notation such as 10.0.0.0/8.");
            }
        }

        if (!Enum.IsDefined(preStop.WhenNoStopFollows))
        {
            failures.Add(
                $"{Prefix}PreStop:{nameof(preStop.WhenNoStopFollows)} must be Stop or Rejoin (was {(int)preStop.WhenNoStopFollows}).");
        }

        var liveness = options.LivenessProbe;
        if (liveness.Period is { } period)
        {
            RequirePositive(failures, "LivenessProbe:" + nameof(liveness.Period), period);
            CheckTimerRange(failures, "LivenessProbe:" + nameof(liveness.Period), period);
        }

        if (liveness.FailureThreshold < 1)
        {
            failures.Add($"{Prefix}LivenessProbe:{nameof(liveness.FailureThreshold)} must be at least 1, as the probe's failureThreshold (was {liveness.FailureThreshold}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    // RFC 9110, 5.6.2: a field name is a token of these characters.
    private static bool IsHeaderNameChar(char c) => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal);

    private static void CheckTimerRange(List<string> failures, string option, TimeSpan value)
    {
        if (value > MaxTimer)
        {
            failures.Add($"{Prefix}{option} must be at most {MaxTimer} (about 49.7 days, the longest timer .NET supports) (was {value}).");
        }
    }

    private static void RequirePositive(List<string> failures, string option, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            failures.Add($"{Prefix}{option} must be greater than zero (was {value}).");
        }
    }

    private static void RequireAtLeast(List<string> failures, string option, TimeSpan value, TimeSpan minimum)
    {
        if (value < minimum)
        {
            failures.Add($"{Prefix}{option} must be at least {minimum} (was {value}).");
        }
    }

    private static void RequireText(List<string> failures, string option, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            failures.Add($"{Prefix}{option} must not be empty.");
        }
    }

    private static void CheckPath(List<string> failures, Dictionary<string, (string Option, string Path)> seen, string option, string? path)
    {
        if (string.IsNullOrEmpty(path) || path[0] != '/')
        {
            failures.Add($"{Prefix}{option} must start with '/' (was '{path}').");
            return;
        }

        // Trust and faults: the path is mapped as a route template; a parameter, catch-all or query would make the
        // probe answer on paths nobody configured (or on none).
        var invalid = path.IndexOfAny(['{', '}', '*', '?', '#', '%', '\\', ' ', '\t']);
        if (invalid >= 0 || path.Contains("//", StringComparison.Ordinal) || path.Contains("/./", StringComparison.Ordinal) || path.Contains("/../", StringComparison.Ordinal))
        {
            failures.Add($"{Prefix}{option} ('{path}') must be a plain path such as /health: no route parameters ({{ }}), catch-all (*), query (?), fragment (#), escapes (%), backslashes, spaces or empty or dot segments.");
            return;
        }

        // Routing matches paths without case and with or without a trailing slash: /health/ and /Health are /health
        // there, and two endpoints on one path answer 500 (an ambiguous match) or the wrong one.
        if (!seen.TryAdd(RoutePath.Normalize(path), (option, path)))
        {
            var other = seen[RoutePath.Normalize(path)];
            failures.Add(
                $"{Prefix}{option} ('{path}') is the same path as {Prefix}{other.Option} ('{other.Path}'): routing ignores case and a trailing slash. " +
                "Give each endpoint its own path.");
        }
    }
}
