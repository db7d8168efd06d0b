namespace GracefulLifecycle.Endpoints;

/// <summary>The display names of the lifecycle's endpoints, by which the collision check and the registries find them.</summary>
internal static class EndpointNames
{
    public const string Liveness = EndpointCollisions.DisplayNamePrefix + "liveness";
    public const string Readiness = EndpointCollisions.DisplayNamePrefix + "readiness";
    public const string PreStop = EndpointCollisions.DisplayNamePrefix + "preStop";
}
