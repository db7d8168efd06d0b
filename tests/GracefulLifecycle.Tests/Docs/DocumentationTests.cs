using System.Text.RegularExpressions;

namespace GracefulLifecycle.Tests.Docs;

/// <summary>
/// The documentation a newcomer and a package page show: README's first screen has the two commands, README stays a
/// front page, every relative link in README and docs/ resolves, a package's README links only absolutely, and every
/// log event is listed with its id.
/// </summary>
public sealed partial class DocumentationTests
{
    private static readonly string Root = FindRoot();

    [Fact]
    public void Readme_ShowsTheSampleAndTheTestCommand_InItsFirstScreenful_AndStaysShort()
    {
        var lines = File.ReadAllLines(Path.Combine(Root, "README.md"));
        var firstScreen = string.Join('\n', lines.Take(40));

        Assert.Contains("dotnet run --project samples/GracefulLifecycle.Sample", firstScreen, StringComparison.Ordinal);
        Assert.Contains(".ci/run", firstScreen, StringComparison.Ordinal);
        Assert.True(lines.Length <= 300, $"README.md has {lines.Length} lines; reference belongs in docs/");
        Assert.True(File.Exists(Path.Combine(Root, ".ci", "run")), "README's test command .ci/run is missing");
    }

    [Fact]
    public void EveryRelativeLink_InReadmeAndDocs_PointsAtAFileThatExists()
    {
        var files = new[] { Path.Combine(Root, "README.md") }.Concat(Directory.GetFiles(Path.Combine(Root, "docs"), "*.md"));
        var broken = new List<string>();
        foreach (var file in files)
        {
            foreach (Match link in MarkdownLink().Matches(File.ReadAllText(file)))
            {
                var target = link.Groups["target"].Value.Split('#')[0];
                if (target.Length == 0 || target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal))
                {
                    continue;
                }

                if (!File.Exists(Path.Combine(Path.GetDirectoryName(file)!, target)) && !Directory.Exists(Path.Combine(Path.GetDirectoryName(file)!, target)))
                {
                    broken.Add($"{Path.GetRelativePath(Root, file)}: {link.Value}");
                }
            }
        }

        Assert.True(broken.Count == 0, "Broken links:\n" + string.Join('\n', broken));
    }

    [Fact]
    public void EveryPackage_HasItsOwnReadme_WithOnlyAbsoluteLinks()
    {
        var projects = Directory.GetFiles(Path.Combine(Root, "src"), "*.csproj", SearchOption.AllDirectories);
        Assert.NotEmpty(projects);
        foreach (var project in projects)
        {
            var readme = Path.Combine(Path.GetDirectoryName(project)!, "README.md");
            Assert.True(File.Exists(readme), $"{Path.GetFileName(project)} has no README.md of its own");
            var relative = MarkdownLink().Matches(File.ReadAllText(readme)).Where(m => !m.Groups["target"].Value.Contains("://", StringComparison.Ordinal));
            Assert.Empty(relative.Select(m => $"{Path.GetFileName(project)}: {m.Value}"));
        }
    }

    [Fact]
    public void EveryLogEvent_OfEveryPackage_IsListedInObservability_WithItsIdNameAndLevel()
    {
        var listed = File.ReadAllLines(Path.Combine(Root, "docs", "observability.md")).Where(l => l.StartsWith("| ", StringComparison.Ordinal)).ToList();
        var events = Directory.GetFiles(Path.Combine(Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => LogEvent().Matches(File.ReadAllText(f)))
            .Select(m => (Id: m.Groups["id"].Value, Level: m.Groups["level"].Value, Name: m.Groups["name"].Value))
            .ToList();

        Assert.True(events.Count > 50, $"only {events.Count} [LoggerMessage] events found: the pattern no longer matches the source");
        var missing = events
            .Where(e => !listed.Any(l => l.StartsWith($"| {e.Id} |", StringComparison.Ordinal) && l.Contains($"`{e.Name}`", StringComparison.Ordinal) && l.Contains($"| {e.Level} |", StringComparison.Ordinal)))
            .Select(e => $"{e.Id} {e.Name} ({e.Level})");
        Assert.True(!missing.Any(), "Not in docs/observability.md as '| id | ... | `Name` | Level |':\n" + string.Join('\n', missing));
        Assert.Equal(events.Count, events.Select(e => e.Id).Distinct().Count());
    }

    [GeneratedRegex(@"\]\((?<target>[^)\s]+)\)")]
    private static partial Regex MarkdownLink();

    /// <summary>An event with a stable id: <c>[LoggerMessage(12, LogLevel.Warning, "...", EventName = "Name")]</c>, over several lines too.</summary>
    [GeneratedRegex(@"\[LoggerMessage\(\s*(?<id>\d+)\s*,\s*LogLevel\.(?<level>\w+)\s*,.*?EventName\s*=\s*""(?<name>\w+)""", RegexOptions.Singleline)]
    private static partial Regex LogEvent();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "GracefulLifecycle.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("GracefulLifecycle.sln not found above " + AppContext.BaseDirectory);
    }
}
