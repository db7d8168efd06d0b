namespace GracefulLifecycle.TestSupport.Consul;

/// <summary>One run of an HTTP check by the fake agent, recorded when its result was applied.</summary>
/// <param name="ServiceId">The service the check belongs to.</param>
/// <param name="CheckId">The check.</param>
/// <param name="StartedAt">When the run started, on the agent's clock.</param>
/// <param name="Status">What it found: <c>passing</c>, <c>warning</c> or <c>critical</c>.</param>
/// <param name="Scheduled">True for a run the agent's own schedule started, false for one a test asked for.</param>
public sealed record CheckRun(string ServiceId, string CheckId, DateTimeOffset StartedAt, string Status, bool Scheduled);
