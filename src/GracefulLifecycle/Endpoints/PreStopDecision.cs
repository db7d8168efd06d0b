namespace GracefulLifecycle.Endpoints;

/// <summary>Whether a preStop call may proceed, and if not the status code and the reason to log.</summary>
internal readonly record struct PreStopDecision(int StatusCode, string? Reason)
{
    public static PreStopDecision Allowed => new(200, null);

    public bool IsAllowed => Reason is null;
}
