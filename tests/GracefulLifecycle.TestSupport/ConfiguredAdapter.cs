using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit;

namespace GracefulLifecycle.TestSupport;

/// <summary>
/// An adapter added to a service collection as an application adds it, with its settings in configuration, and
/// resolved without a host or a server: for the options tests of every adapter.
/// </summary>
public static class ConfiguredAdapter
{
    /// <summary>Builds a provider with logging, <paramref name="settings"/> as the configuration, and the lifecycle with what <paramref name="add"/> adds.</summary>
    public static ServiceProvider Build(Action<IGracefulLifecycleBuilder> add, IEnumerable<KeyValuePair<string, string?>>? settings = null)
    {
        ArgumentNullException.ThrowIfNull(add);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings ?? []).Build());
        add(services.AddGracefulLifecycle());
        return services.BuildServiceProvider();
    }

    /// <summary>
    /// Gets the message of the validation failure that resolving <typeparamref name="TOptions"/> throws with the
    /// configuration key <paramref name="key"/> set to <paramref name="value"/>; fails the test when they resolve.
    /// </summary>
    public static string ValidationFailure<TOptions>(Action<IGracefulLifecycleBuilder> add, string key, string value)
        where TOptions : class
    {
        using var provider = Build(add, [KeyValuePair.Create<string, string?>(key, value)]);
        return Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<TOptions>>().Value).Message;
    }
}
