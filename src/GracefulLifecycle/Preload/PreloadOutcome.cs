namespace GracefulLifecycle.Preload;

/// <summary>How a preload run ended.</summary>
internal enum PreloadOutcome
{
    Succeeded,
    Canceled,
    Failed,
}
