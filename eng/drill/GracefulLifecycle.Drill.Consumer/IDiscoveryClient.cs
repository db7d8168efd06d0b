namespace GracefulLifecycle.Drill.Consumer;

/// <summary>A consumer's discovery client: what it answers when asked for the instances of a service.</summary>
internal interface IDiscoveryClient
{
    /// <summary>Gets the instances the client knows now; each asking may reach the registry or read a local copy.</summary>
    Task<IReadOnlyList<Uri>> GetInstancesAsync(CancellationToken cancellationToken);
}
