namespace GracefulLifecycle.TestSupport.Consul;

/// <summary>A service registered with the fake agent, with its checks, as the agent understood it.</summary>
/// <remarks>The <c>Check…</c> members describe the first HTTP check (the only one of a service registered with
/// <c>Check</c>); <see cref="Checks"/> holds them all.</remarks>
public sealed class AgentService
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    public required string Address { get; init; }

    public required int Port { get; init; }

    public required IReadOnlyList<string> Tags { get; init; }

    public required IReadOnlyDictionary<string, string> Meta { get; init; }

    /// <summary>Gets the service's checks, in the order registered (<c>Check</c> first, then <c>Checks</c>).</summary>
    public IReadOnlyList<AgentCheck> Checks { get; init; } = [];

    /// <summary>Gets the URL of the first HTTP check, or <see langword="null"/> when the service has no HTTP check.</summary>
    public string? CheckHttp => FirstHttp?.Http;

    public string CheckMethod => FirstHttp?.Method ?? "GET";

    /// <summary>Gets the interval of the first HTTP check, raised to Consul's one-second minimum.</summary>
    public TimeSpan CheckInterval => FirstHttp?.Interval ?? TimeSpan.Zero;

    /// <summary>Gets the timeout of the first HTTP check; Consul's default is 10 seconds.</summary>
    public TimeSpan CheckTimeout => FirstHttp?.Timeout ?? TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets how long a check may stay critical before the agent removes the service: the shortest value among the
    /// checks that set one, each raised to Consul's one-minute minimum; zero when none does.
    /// </summary>
    public TimeSpan DeregisterCriticalServiceAfter =>
        Checks.Where(c => c.DeregisterCriticalServiceAfter > TimeSpan.Zero).Select(c => c.DeregisterCriticalServiceAfter).DefaultIfEmpty().Min();

    /// <summary>
    /// Gets the service's health from its checks: <c>critical</c> when one is, else <c>warning</c> when one is, else
    /// <c>passing</c> (also without checks, as Consul lists such a service). A new check starts critical.
    /// </summary>
    public string CheckStatus => Worst?.Status ?? "passing";

    /// <summary>Gets the output of the check that decides <see cref="CheckStatus"/>.</summary>
    public string CheckOutput => Worst?.Output ?? string.Empty;

    /// <summary>Gets the maintenance reason while maintenance mode is enabled, otherwise <see langword="null"/>.</summary>
    public string? MaintenanceReason { get; internal set; }

    private AgentCheck? FirstHttp => Checks.FirstOrDefault(c => c.Http is not null);

    private AgentCheck? Worst =>
        Checks.FirstOrDefault(c => c.Status == "critical") ?? Checks.FirstOrDefault(c => c.Status == "warning") ?? (Checks.Count > 0 ? Checks[0] : null);
}
