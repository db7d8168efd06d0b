namespace GracefulLifecycle.Sample;

/// <summary>Settings of the sample service, from the <c>Sample</c> configuration section.</summary>
public sealed class SampleOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Sample";

    /// <summary>Gets or sets how long the simulated cache warm-up takes.</summary>
    public TimeSpan PreloadDuration { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Gets or sets a value indicating whether the simulated warm-up fails, to see a failed preload.</summary>
    public bool PreloadFails { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether the simulated warm-up blocks its thread for good, to see a preload
    /// task that ignores its timeout.
    /// </summary>
    public bool PreloadBlocks { get; set; }
}
