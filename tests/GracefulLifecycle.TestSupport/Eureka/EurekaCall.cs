namespace GracefulLifecycle.TestSupport.Eureka;

/// <summary>One request the fake Eureka server received, recorded when it arrived.</summary>
/// <remarks>The path is below the base path, for example <c>apps/ORDERS/host:orders:8080</c>.</remarks>
public sealed class EurekaCall(int sequence, string method, string path, string query, DateTimeOffset time, long arrivedAt, string body)
    : RegistryCall(sequence, method, path, query, body, arrivedAt)
{
    /// <summary>Gets the server's (fake) time when the call arrived: Eureka's timestamps run on it.</summary>
    public DateTimeOffset Time { get; } = time;

    /// <summary>Gets the <c>Authorization</c> header the call carried, or null.</summary>
    public string? Authorization { get; init; }
}
