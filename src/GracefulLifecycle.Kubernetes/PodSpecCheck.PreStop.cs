using System.Globalization;

namespace GracefulLifecycle.Kubernetes;

/// <summary>The preStop half of the check: a hook the options do not count, or one the endpoint would refuse.</summary>
internal static partial class PodSpecCheck
{
    private static void CheckPreStop(List<PodFinding> findings, PodContainer container, string at, TimeSpan grace, PodCheckInput input)
    {
        var options = input.Options;
        var timings = input.Timings;
        var field = $"{at}.lifecycle.preStop";
        var sleepOption = $"{Core}PreStop:{nameof(options.PreStop.Sleep)}";
        var handler = container.PreStop;
        var (sleep, sleepField) = handler switch
        {
            { SleepSeconds: { } seconds } => ((TimeSpan?)TimeSpan.FromSeconds(seconds), (string?)$"{field}.sleep.seconds ({seconds})"),
            { ExecCommand: { } command } when ExecSleep(command) is { } s => (s, $"{field}.exec.command ({string.Join(' ', command)})"),
            _ => ((TimeSpan?)null, (string?)null),
        };

        var counted = timings.PreStopSleep;
        if (sleep is { } slept)
        {
            if (slept < counted)
            {
                findings.Add(new PodFinding(
                    $"{sleepField} sleeps {Seconds(slept)}, less than {sleepOption} ({counted}): after SIGTERM the instance serves only what the counted sleep leaves of the delay, " +
                    $"so load balancers would get {Seconds(counted - slept)} less than they need. Set {sleepOption} to {Duration(slept)}.",
                    LosesRequests: true));
            }
            else if (slept > counted)
            {
                var actual = slept + timings.TerminationBudget - counted;
                findings.Add(actual > grace
                    ? new PodFinding(
                        $"{sleepField} sleeps {Seconds(slept)}, but {sleepOption} counts {counted}: the sleep ({Seconds(slept)}) + the shutdown after SIGTERM " +
                        $"({Seconds(timings.TerminationBudget - counted)}) = {Seconds(actual)} exceeds spec.terminationGracePeriodSeconds ({(long)grace.TotalSeconds}), so the kubelet " +
                        $"would kill the process mid-drain. Set {sleepOption} to {Duration(slept)} (the delay after SIGTERM then shrinks by the sleep).",
                        LosesRequests: true)
                    : new PodFinding(
                        $"{sleepField} sleeps {Seconds(slept)}, but {sleepOption} counts {counted}: the whole {Core}{nameof(options.ShutdownDelay)} is served again after SIGTERM. " +
                        $"Set {sleepOption} to {Duration(slept)} to shorten the shutdown.",
                        LosesRequests: false));
            }
        }
        else if (counted > TimeSpan.Zero)
        {
            findings.Add(new PodFinding(
                $"{sleepOption} ({counted}) counts a preStop sleep, but {field} has no sleep ({(handler is null ? "no preStop hook" : "another hook")}): after SIGTERM " +
                $"the instance serves only what the sleep would have left of the delay, so load balancers get {Seconds(counted)} less than they need. " +
                $"Add preStop sleep seconds {(long)counted.TotalSeconds}, or set {sleepOption} to 0.",
                LosesRequests: true));
        }

        if (handler?.HttpGet is { } get)
        {
            CheckPreStopCall(findings, container, $"{field}.httpGet", get, input);
        }
    }

    private static void CheckPreStopCall(List<PodFinding> findings, PodContainer container, string field, PodHttpGet get, PodCheckInput input)
    {
        var options = input.Options;
        var preStop = options.PreStop;
        if (!SamePath(PathOnly(get.Path), options.PreStopPath))
        {
            findings.Add(new PodFinding(
                $"{field}.path ({get.Path}) is not the preStop endpoint {options.PreStopPath} ({Core}{nameof(options.PreStopPath)}): the hook would not start leaving " +
                "before SIGTERM. Point it at the preStop endpoint.",
                LosesRequests: true));
        }

        CheckPort(findings, container, $"{field}.port", get.Port, input, preStop.ManagementPort, $"{Core}PreStop:{nameof(preStop.ManagementPort)}");

        var tokenOption = $"{Core}PreStop:{nameof(preStop.Token)}";
        if (preStop.Token is { } token)
        {
            // The values are secrets: the messages say which side is missing or different, never either value.
            var sent = get.Headers.Where(h => string.Equals(h.Name, preStop.TokenHeaderName, StringComparison.OrdinalIgnoreCase)).ToArray();
            if (sent.Length == 0)
            {
                findings.Add(new PodFinding(
                    $"{field}.httpHeaders has no {preStop.TokenHeaderName} header ({Core}PreStop:{nameof(preStop.TokenHeaderName)}), which {tokenOption} requires: the " +
                    "kubelet's call would be refused (403) and the leave would start only at SIGTERM. Add the header with the token.",
                    LosesRequests: true));
            }
            else if (!sent.Any(h => string.Equals(h.Value, token, StringComparison.Ordinal)))
            {
                findings.Add(new PodFinding(
                    $"{field}.httpHeaders sends {preStop.TokenHeaderName} with another value than {tokenOption} (neither is shown): the kubelet's call would be refused " +
                    "(403) and the leave would start only at SIGTERM. Send the same token.",
                    LosesRequests: true));
            }
        }
        else if (preStop.AllowedNetworks.Count == 0 && preStop.ManagementPort is null)
        {
            findings.Add(new PodFinding(
                $"{field} calls the preStop endpoint from the node, but with no {tokenOption}, {Core}PreStop:AllowedNetworks or {Core}PreStop:ManagementPort set " +
                "it accepts loopback callers only: the kubelet's call would be refused (403) and the leave would start only at SIGTERM. Set a token and send it in httpHeaders.",
                LosesRequests: true));
        }
    }

    /// <summary>The seconds an exec hook sleeps: <c>sleep N</c>, directly or through <c>sh -c</c>; null for any other command.</summary>
    internal static TimeSpan? ExecSleep(IReadOnlyList<string> command)
    {
        var words = command.Count >= 3 && Path.GetFileName(command[0]) is "sh" or "bash" or "ash" && command[1] == "-c"
            ? command[2].Split(' ', StringSplitOptions.RemoveEmptyEntries)
            : [.. command];
        if (words.Length != 2 || Path.GetFileName(words[0]) != "sleep")
        {
            return null;
        }

        var text = words[1].EndsWith('s') ? words[1][..^1] : words[1];
        return double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds) && seconds <= int.MaxValue
            ? TimeSpan.FromSeconds(seconds)
            : null;
    }
}
