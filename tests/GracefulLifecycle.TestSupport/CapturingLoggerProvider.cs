using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace GracefulLifecycle.TestSupport;

/// <summary>
/// Keeps every log record (Microsoft.Extensions.Diagnostics.Testing's fake logger), and reads them back as the lines
/// an operator would see: <c>Level Category[EventId] message exception-message</c>.
/// </summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly FakeLoggerProvider _inner;

    public CapturingLoggerProvider()
    {
        _inner = new FakeLoggerProvider(Collector);
    }

    /// <summary>Gets the records themselves, with their level, event id, state and exception.</summary>
    public FakeLogCollector Collector { get; } = new();

    public IReadOnlyCollection<string> Lines => Collector.GetSnapshot().Select(Format).ToArray();

    public bool Contains(string fragment) => Lines.Any(l => l.Contains(fragment, StringComparison.Ordinal));

    public ILogger CreateLogger(string categoryName) => _inner.CreateLogger(categoryName);

    public void Dispose() => _inner.Dispose();

    private static string Format(FakeLogRecord r) =>
        $"{r.Level} {r.Category}[{r.Id.Id}] {r.Message}{(r.Exception is null ? string.Empty : " " + r.Exception.Message)}";
}
