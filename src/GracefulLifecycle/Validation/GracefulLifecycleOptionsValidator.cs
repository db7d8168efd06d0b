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

    public ValidateOptionsResult Validate(string? name, GracefulLifecycleOptions options)
    {
        // Trust and faults: every duration ends up in a timer, so each check below also holds it to a timer's range;
        // beyond it the timer throws at run time (a /prestop call would then never answer) instead of here.
        var check = new OptionChecks(Prefix);
        check.AtLeast(nameof(options.ShutdownDelay), options.ShutdownDelay, TimeSpan.Zero);
        check.Positive(nameof(options.DrainTimeout), options.DrainTimeout);
        check.Positive(nameof(options.TerminationGracePeriod), options.TerminationGracePeriod);
        check.AtLeast(nameof(options.ShutdownMargin), options.ShutdownMargin, TimeSpan.Zero);
        check.Positive(nameof(options.PreloadTimeout), options.PreloadTimeout);
        check.AtLeast(nameof(options.WebSocketCloseDelay), options.WebSocketCloseDelay, TimeSpan.Zero);
        if (options.WebSocketCloseDelay >= options.DrainTimeout && options.DrainTimeout > TimeSpan.Zero)
        {
            check.Fail(
                $"{Prefix}{nameof(options.WebSocketCloseDelay)} ({options.WebSocketCloseDelay}) must be less than {Prefix}{nameof(options.DrainTimeout)} " +
                $"({options.DrainTimeout}): WebSockets would be aborted before the library closes them. Lower it, or raise the drain timeout.");
        }

        var registration = options.Registration;
        check.Positive("Registration:" + nameof(registration.StartupTimeout), registration.StartupTimeout);
        check.Positive("Registration:" + nameof(registration.DeregistrationTimeout), registration.DeregistrationTimeout);
        check.AtLeast("Registration:" + nameof(registration.InFlightCallTimeout), registration.InFlightCallTimeout, TimeSpan.Zero);
        if (registration.InFlightCallTimeout >= registration.DeregistrationTimeout && registration.DeregistrationTimeout > TimeSpan.Zero)
        {
            // Trust and faults: the wait for a call in flight is carved out of the deregistration budget.
            check.Fail(
                $"{Prefix}Registration:{nameof(registration.InFlightCallTimeout)} ({registration.InFlightCallTimeout}) must be shorter than " +
                $"{Prefix}Registration:{nameof(registration.DeregistrationTimeout)} ({registration.DeregistrationTimeout}): the deregistration itself would have no time left. " +
                "Lower the first or raise the second.");
        }
        check.Positive("Registration:" + nameof(registration.RetryInitialDelay), registration.RetryInitialDelay);
        if (registration.RetryMaxDelay < registration.RetryInitialDelay)
        {
            check.Fail($"{Prefix}Registration:{nameof(registration.RetryMaxDelay)} ({registration.RetryMaxDelay}) must be at least {Prefix}Registration:{nameof(registration.RetryInitialDelay)} ({registration.RetryInitialDelay}).");
        }

        check.TimerRange("Registration:" + nameof(registration.RetryMaxDelay), registration.RetryMaxDelay);
        check.AtLeast("PreStop:" + nameof(options.PreStop.Sleep), options.PreStop.Sleep, TimeSpan.Zero);

        if (!check.Failed && ShutdownBudget.Check(new ShutdownPlan(options, [])) is { } budget)
        {
            check.Fail(budget);
        }

        var paths = new Dictionary<string, (string Option, string Path)>(StringComparer.OrdinalIgnoreCase);
        CheckPath(check, paths, nameof(options.LivenessPath), options.LivenessPath);
        CheckPath(check, paths, nameof(options.ReadinessPath), options.ReadinessPath);
        CheckPath(check, paths, nameof(options.PreStopPath), options.PreStopPath);

        check.Text(nameof(options.LivenessTag), options.LivenessTag);
        check.Text(nameof(options.ReadinessTag), options.ReadinessTag);

        var preStop = options.PreStop;
        if (preStop.ManagementPort is { } port && (port < 1 || port > 65535))
        {
            check.Fail($"{Prefix}PreStop:{nameof(preStop.ManagementPort)} must be a TCP port from 1 to 65535 (was {port}).");
        }

        if (preStop.Token is not null && string.IsNullOrWhiteSpace(preStop.Token))
        {
            check.Fail($"{Prefix}PreStop:{nameof(preStop.Token)} must not be blank; remove it to disable the token check.");
        }

        else if (preStop.Token is { } token && token.Any(static c => c is < '!' or > '~'))
        {
            // The value itself stays out of the message: it is a secret.
            check.Fail(
                $"{Prefix}PreStop:{nameof(preStop.Token)} contains a space, a control character or a character outside ASCII: " +
                "HTTP clients, proxies and Kestrel trim, alter or refuse these in a header, so callers would be refused. Use printable ASCII without spaces, such as a random hex or base64 string.");
        }

        check.Text("PreStop:" + nameof(preStop.TokenHeaderName), preStop.TokenHeaderName);
        if (!string.IsNullOrWhiteSpace(preStop.TokenHeaderName) && !preStop.TokenHeaderName.All(IsHeaderNameChar))
        {
            check.Fail(
                $"{Prefix}PreStop:{nameof(preStop.TokenHeaderName)} ('{preStop.TokenHeaderName}') is not a valid HTTP header name, so every caller would be refused: " +
                "use letters, digits and !#$%&'*+-.^_`|~ only (RFC 9110 token), such as X-PreStop-Token.");
        }

        for (var i = 0; i < preStop.AllowedNetworks.Count; i++)
        {
            if (!IPNetwork.TryParse(preStop.AllowedNetworks[i], out _))
            {
                check.Fail(
                    $"{Prefix}PreStop:{nameof(preStop.AllowedNetworks)}:{i} ('{preStop.AllowedNetworks[i]}') is not a network in CIDR notation such as 10.0.0.0/8.");
            }
        }

        if (!Enum.IsDefined(preStop.WhenNoStopFollows))
        {
            check.Fail(
                $"{Prefix}PreStop:{nameof(preStop.WhenNoStopFollows)} must be Stop or Rejoin (was {(int)preStop.WhenNoStopFollows}).");
        }

        var liveness = options.LivenessProbe;
        if (liveness.Period is { } period)
        {
            check.Positive("LivenessProbe:" + nameof(liveness.Period), period);
        }

        if (liveness.FailureThreshold < 1)
        {
            check.Fail($"{Prefix}LivenessProbe:{nameof(liveness.FailureThreshold)} must be at least 1, as the probe's failureThreshold (was {liveness.FailureThreshold}).");
        }

        return check.Result();
    }

    // RFC 9110, 5.6.2: a field name is a token of these characters.
    private static bool IsHeaderNameChar(char c) => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal);

    private static void CheckPath(OptionChecks check, Dictionary<string, (string Option, string Path)> seen, string option, string? path)
    {
        if (string.IsNullOrEmpty(path) || path[0] != '/')
        {
            check.Fail($"{Prefix}{option} must start with '/' (was '{path}').");
            return;
        }

        // Trust and faults: the path is mapped as a route template; a parameter, catch-all or query would make the
        // probe answer on paths nobody configured (or on none). The same rule holds a pattern given to a Map* method.
        if (!RoutePath.IsPlain(path))
        {
            check.Fail($"{Prefix}{option} ('{path}') must be a plain path such as /health: no route parameters ({{ }}), catch-all (*), query (?), fragment (#), escapes (%), backslashes, spaces or empty or dot segments.");
            return;
        }

        // Routing matches paths without case and with or without a trailing slash: /health/ and /Health are /health
        // there, and two endpoints on one path answer 500 (an ambiguous match) or the wrong one.
        if (!seen.TryAdd(RoutePath.Normalize(path), (option, path)))
        {
            var other = seen[RoutePath.Normalize(path)];
            check.Fail(
                $"{Prefix}{option} ('{path}') is the same path as {Prefix}{other.Option} ('{other.Path}'): routing ignores case and a trailing slash. " +
                "Give each endpoint its own path.");
        }
    }
}
