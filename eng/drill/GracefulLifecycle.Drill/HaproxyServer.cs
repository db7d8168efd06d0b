namespace GracefulLifecycle.Drill;

/// <summary>One server slot as HAProxy's runtime API reports it (<c>show stat</c>).</summary>
/// <param name="Port">The slot's loopback port.</param>
/// <param name="Status">HAProxy's status column: UP, DOWN, MAINT, ...</param>
/// <param name="Check">The last health check's status and duration, e.g. <c>L7OK 1ms</c> or <c>L4CON</c>.</param>
internal sealed record HaproxyServer(int Port, string Status, string Check)
{
    public bool IsUp => Status.StartsWith("UP", StringComparison.Ordinal);

    public override string ToString() => $"{Port} {Status} ({Check})";
}
