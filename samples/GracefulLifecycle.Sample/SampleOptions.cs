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

    /// <summary>
    /// Gets or sets another service this one calls on <c>GET /downstream</c>, by name (<c>http://catalog</c>): an
    /// <c>HttpClient</c> with <c>.AddServiceDiscovery()</c> resolves it to the instances registered under that name in
    /// the registry whose section is configured (<c>GracefulLifecycle:Etcd</c>, <c>GracefulLifecycle:Consul</c> or
    /// <c>GracefulLifecycle:Eureka</c>, the same section this instance registers with), or from
    /// <c>Services:catalog:http:0</c> in configuration.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: no call, and no resolver.</value>
    public Uri? Downstream { get; set; }
}
