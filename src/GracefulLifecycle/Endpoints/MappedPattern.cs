namespace GracefulLifecycle.Endpoints;

/// <summary>
/// Marks a lifecycle endpoint mapped at a pattern the application gave (<c>MapGracefulLiveness("/healthz")</c>), not at
/// the path in the options: a collision then names the method and its pattern, not an option nobody set.
/// </summary>
internal sealed class MappedPattern(string method)
{
    public string Method { get; } = method;
}
