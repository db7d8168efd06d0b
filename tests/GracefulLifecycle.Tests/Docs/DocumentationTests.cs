using System.Text.RegularExpressions;

namespace GracefulLifecycle.Tests.Docs;

/// <summary>
/// The documentation a newcomer and a package page show: README's first screen has the two commands, README stays a
/// front page, every relative link in README and docs/ resolves, and a package's README links only absolutely.
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

    [GeneratedRegex(@"\]\((?<target>[^)\s]+)\)")]
    private static partial Regex MarkdownLink();

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
