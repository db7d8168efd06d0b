namespace GracefulLifecycle.Bench;

/// <summary>The command line: which measurements to run, and how long.</summary>
internal sealed record BenchOptions
{
    /// <summary>Gets the CPU the servers are pinned to; the load generator gets <see cref="LoadCpu"/>.</summary>
    public string ServerCpu { get; init; } = "1";

    public string LoadCpu { get; init; } = "0";

    /// <summary>Gets the measured rounds of the overhead comparison, spread over <see cref="Pairs"/>.</summary>
    public int Rounds { get; init; } = 6;

    /// <summary>Gets how many pairs of processes (sample and baseline) the overhead rounds are spread over.</summary>
    public int Pairs { get; init; } = 2;

    public TimeSpan RoundDuration { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets how long each process of the overhead comparison is loaded on each path before it is measured.</summary>
    public TimeSpan WarmupDuration { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Gets the runs of each shutdown case.</summary>
    public int Runs { get; init; } = 5;

    /// <summary>Gets how long each probe scenario probes, one probe per <see cref="ProbePeriod"/>.</summary>
    public TimeSpan ProbeDuration { get; init; } = TimeSpan.FromSeconds(20);

    public TimeSpan ProbePeriod { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Gets whether the apps run with <c>DOTNET_TieredPGO=0</c>, which narrows the spread between processes.</summary>
    public bool NoPgo { get; init; }

    public IReadOnlySet<string> Only { get; init; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

    public bool Includes(string name) => Only.Count == 0 || Only.Contains(name);
}
