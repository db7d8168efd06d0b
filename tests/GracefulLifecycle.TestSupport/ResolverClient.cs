using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.ServiceDiscovery;

namespace GracefulLifecycle.TestSupport;

/// <summary>
/// A consumer as an application builds one: the real resolver of Microsoft.Extensions.ServiceDiscovery with an
/// adapter's endpoint provider, read through <see cref="ServiceEndpointResolver"/> and through an
/// <see cref="HttpClient"/> with <c>AddServiceDiscovery()</c> whose requests end at a handler that records where the
/// resolver sent them (no network behind it: what is tested is the choice of instance).
/// </summary>
public sealed class ResolverClient : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly List<string> _sentTo = [];

    private ResolverClient(ServiceProvider services, CapturingLoggerProvider log)
    {
        _services = services;
        Log = log;
    }

    /// <summary>Gets the log records of the consumer.</summary>
    public CapturingLoggerProvider Log { get; }

    public ServiceEndpointResolver Resolver => _services.GetRequiredService<ServiceEndpointResolver>();

    public IServiceProvider Services => _services;

    /// <summary>Builds the consumer; <paramref name="addProvider"/> adds the adapter's provider (and anything else).</summary>
    public static ResolverClient Create(Action<IServiceCollection> addProvider, Action<IServiceCollection>? before = null)
    {
        ResolverClient? client = null;
        var services = new ServiceCollection();
        var logs = new CapturingLoggerProvider();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(logs));
        before?.Invoke(services);
        addProvider(services);

        // As a host would have it (the configuration provider of AddServiceDiscovery() needs one).
        services.TryAddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddHttpClient("consumer")
            .ConfigurePrimaryHttpMessageHandler(() => new RecordingHandler(uri => client!.Record(uri)))
            .AddServiceDiscovery();
        client = new ResolverClient(services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true }), logs);
        return client;
    }

    /// <summary>The endpoints the resolver holds for <paramref name="serviceUri"/>, as <c>host:port</c>, sorted.</summary>
    public async Task<string[]> EndpointsAsync(string serviceUri)
    {
        var source = await Resolver.GetEndpointsAsync(serviceUri, CancellationToken.None);
        return [.. source.Endpoints.Select(e => Describe(e.EndPoint)).Order(StringComparer.Ordinal)];
    }

    /// <summary>Sends <paramref name="calls"/> requests to <paramref name="url"/> and returns where each went.</summary>
    public async Task<string[]> CallAsync(string url, int calls)
    {
        var http = _services.GetRequiredService<IHttpClientFactory>().CreateClient("consumer");
        lock (_sentTo)
        {
            _sentTo.Clear();
        }

        for (var i = 0; i < calls; i++)
        {
            using var response = await http.GetAsync(new Uri(url));
            response.EnsureSuccessStatusCode();
        }

        lock (_sentTo)
        {
            return [.. _sentTo];
        }
    }

    public ValueTask DisposeAsync() => _services.DisposeAsync();

    public static string Describe(EndPoint endpoint) => endpoint switch
    {
        IPEndPoint ip => $"{ip.Address}:{ip.Port}",
        DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
        _ => endpoint.ToString()!,
    };

    private void Record(Uri uri)
    {
        lock (_sentTo)
        {
            _sentTo.Add($"{uri.Host}:{uri.Port}");
        }
    }

    private sealed class RecordingHandler(Action<Uri> record) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            record(request.RequestUri!);
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { RequestMessage = request });
        }
    }
}
