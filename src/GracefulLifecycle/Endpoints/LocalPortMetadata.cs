namespace GracefulLifecycle.Endpoints;

/// <summary>The local ports an endpoint answers on; added by <c>RequireLocalPort</c>.</summary>
internal sealed class LocalPortMetadata(IReadOnlyList<int> ports)
{
    public IReadOnlyList<int> Ports { get; } = ports;
}
