using GracefulLifecycle.Transport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.ServiceDiscovery;

namespace GracefulLifecycle.Discovery;

/// <summary>
/// The resolver's entry point for one registry (compiled into each adapter): one <see cref="EndpointFeed"/> per
/// service name, shared by every provider the resolver creates for it (the <c>HttpClient</c> handler's and
/// <see cref="ServiceEndpointResolver"/>'s watchers each make their own), started by the first and stopped with the last.
/// </summary>
internal abstract class RegistryEndpointProviderFactory : IServiceEndpointProviderFactory, IAsyncDisposable
{
    private readonly Dictionary<string, (EndpointFeed Feed, int Users)> _feeds = new(StringComparer.Ordinal);
    private bool _disposed;

    /// <summary>Gets the registry's name in the provider's description: "etcd", "Consul", "Eureka".</summary>
    protected abstract string RegistryName { get; }

    /// <summary>
    /// Creates a provider for a service name. A named endpoint (<c>https://_grpc.catalog</c>) is left to the other
    /// providers (configuration): a registry entry has one address and port, not named endpoints.
    /// </summary>
    public bool TryCreateProvider(ServiceEndpointQuery query, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IServiceEndpointProvider? provider)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.EndpointName is not null || string.IsNullOrWhiteSpace(query.ServiceName))
        {
            provider = null;
            return false;
        }

        var name = NormalizeServiceName(query.ServiceName);
        EndpointFeed feed;
        lock (_feeds)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_feeds.TryGetValue(name, out var entry))
            {
                feed = entry.Feed;
                _feeds[name] = (feed, entry.Users + 1);
            }
            else
            {
                feed = CreateFeed(name);
                _feeds[name] = (feed, 1);
                feed.Start();
            }
        }

        provider = new Provider(this, feed);
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        EndpointFeed[] feeds;
        lock (_feeds)
        {
            _disposed = true;
            feeds = [.. _feeds.Values.Select(e => e.Feed)];
            _feeds.Clear();
        }

        foreach (var feed in feeds)
        {
            await feed.DisposeAsync().ConfigureAwait(false);
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Creates the feed of one service; the factory starts it.</summary>
    protected abstract EndpointFeed CreateFeed(string serviceName);

    /// <summary>The service name as the registry spells it (Eureka's application names are upper case).</summary>
    protected virtual string NormalizeServiceName(string serviceName) => serviceName;

    private async ValueTask ReleaseAsync(EndpointFeed feed)
    {
        lock (_feeds)
        {
            if (!_feeds.TryGetValue(feed.ServiceName, out var entry) || entry.Feed != feed)
            {
                return;
            }

            if (entry.Users > 1)
            {
                _feeds[feed.ServiceName] = (feed, entry.Users - 1);
                return;
            }

            _feeds.Remove(feed.ServiceName);
        }

        await feed.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>What the resolver calls: the feed's list, and its change token so the resolver refreshes at a change.</summary>
    private sealed class Provider(RegistryEndpointProviderFactory factory, EndpointFeed feed) : IServiceEndpointProvider
    {
        private int _disposed;

        public async ValueTask PopulateAsync(IServiceEndpointBuilder endpoints, CancellationToken cancellationToken)
        {
            var (list, changed) = await feed.GetAsync(cancellationToken).ConfigureAwait(false);
            foreach (var endpoint in list)
            {
                endpoints.Endpoints.Add(ServiceEndpoint.Create(endpoint));
            }

            endpoints.AddChangeToken(changed);
        }

        public ValueTask DisposeAsync() =>
            Interlocked.Exchange(ref _disposed, 1) == 0 ? factory.ReleaseAsync(feed) : ValueTask.CompletedTask;

        public override string ToString() => $"{factory.RegistryName}({feed.ServiceName})";
    }
}

/// <summary>How every adapter adds its endpoint provider: the same options binding, validation and ordering.</summary>
internal static class RegistryEndpointProviderServices
{
    // Internal to Microsoft.Extensions.ServiceDiscovery, so known by name.
    private const string PassThroughFactory = "Microsoft.Extensions.ServiceDiscovery.PassThrough.PassThroughServiceEndpointProviderFactory";

    /// <summary>
    /// Adds the resolver's core services, the options (code, then the configuration section, validated at startup),
    /// the adapter's HTTP client and, on the first call only, the factory, ahead of the pass-through provider, which
    /// would otherwise answer <c>http://catalog</c> with the host name itself before the registry is asked.
    /// </summary>
    public static IServiceCollection Add<TFactory, TOptions, TValidator>(
        IServiceCollection services, string sectionName, string httpClientName, Action<TOptions>? configure)
        where TFactory : RegistryEndpointProviderFactory
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        ArgumentNullException.ThrowIfNull(services);
        new ServicesOnly(services).AddSectionOptions(sectionName, configure);
        if (services.Any(d => d.ServiceType == typeof(TFactory)))
        {
            return services;
        }

        services.AddServiceDiscoveryCore();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, TValidator>());
        // The same named client as the registration side's (adding it twice configures it alike).
        AdapterServices.AddHttpClient(services, httpClientName);
        services.AddSingleton<TFactory>();
        var factory = ServiceDescriptor.Singleton<IServiceEndpointProviderFactory>(static sp => sp.GetRequiredService<TFactory>());
        var passThrough = services.ToList().FindIndex(d => d.ServiceType == typeof(IServiceEndpointProviderFactory) && d.ImplementationType?.FullName == PassThroughFactory);
        if (passThrough < 0)
        {
            services.Add(factory);
        }
        else
        {
            services.Insert(passThrough, factory);
        }

        return services;
    }

    /// <summary>Lets the provider's options be added the way the registration side's are, without a lifecycle.</summary>
    private sealed class ServicesOnly(IServiceCollection services) : IGracefulLifecycleBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}
