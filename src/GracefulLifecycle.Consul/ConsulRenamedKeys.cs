using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Consul;

/// <summary>
/// Fails startup on a configuration key that was renamed before 1.0, naming the new key, so that values under the old
/// one are not dropped without a word: <c>GracefulLifecycle:Consul:Meta</c> became <c>GracefulLifecycle:Consul:Metadata</c>,
/// the word the other adapters use.
/// </summary>
internal sealed class ConsulRenamedKeys(IConfiguration? configuration) : IValidateOptions<ConsulOptions>
{
    /// <summary>The old key of <see cref="ConsulOptions.Metadata"/>.</summary>
    public const string OldMetadataKey = ConsulOptions.SectionName + ":Meta";

    public ValidateOptionsResult Validate(string? name, ConsulOptions options)
    {
        var old = configuration?.GetSection(OldMetadataKey).GetChildren().Select(c => c.Key).ToList();
        return old is null or { Count: 0 }
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"{OldMetadataKey} was renamed {ConsulOptions.SectionName}:{nameof(ConsulOptions.Metadata)}; move its " +
                $"{old.Count} {(old.Count == 1 ? "entry" : "entries")} ({string.Join(", ", old)}) there.");
    }
}
