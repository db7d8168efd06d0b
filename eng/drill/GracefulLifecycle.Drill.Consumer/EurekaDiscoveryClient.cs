using System.Text.Json;

namespace GracefulLifecycle.Drill.Consumer;

/// <summary>
/// A Eureka client as Netflix's <c>DiscoveryClient</c> (and Steeltoe's) runs it: it fetches the registry at start,
/// then again <c>registryFetchIntervalSeconds</c> after each fetch ended (<c>TimedSupervisorTask</c> reschedules the
/// <c>CacheRefreshThread</c> once a run completes), and answers <c>getInstances</c> from that local copy, keeping only
/// instances whose status is UP (<c>shouldFilterOnlyUpInstances</c>, true by default). It reads the full registry,
/// <c>GET apps/</c>; the real client asks for <c>apps/delta</c> after its first fetch, which the server serves from
/// the same read-only response cache, so what it sees and when is the same.
/// </summary>
internal sealed class EurekaDiscoveryClient : IDiscoveryClient
{
    private readonly HttpClient _client;
    private readonly Uri _serviceUrl;
    private readonly string _app;
    private readonly TimeSpan _fetchInterval;
    private Uri[] _instances = [];

    public EurekaDiscoveryClient(HttpClient client, Uri serviceUrl, string app, TimeSpan fetchInterval)
    {
        _client = client;
        _serviceUrl = serviceUrl;
        _app = app.ToUpperInvariant();
        _fetchInterval = fetchInterval;
    }

    public Task<IReadOnlyList<Uri>> GetInstancesAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<Uri>>(Volatile.Read(ref _instances));

    /// <summary>
    /// Fetches now, then every fetch interval after the previous fetch ended, the first one after <paramref name="phase"/>:
    /// consumers started at different moments refresh at different moments.
    /// </summary>
    public async Task RunAsync(TimeSpan phase, CancellationToken stopping)
    {
        await FetchAsync(stopping);
        var next = phase;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(next, stopping);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            await FetchAsync(stopping);
            next = _fetchInterval;
        }
    }

    private async Task FetchAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_serviceUrl, "apps/"));
            request.Headers.Accept.ParseAdd("application/json");
            using var response = await _client.SendAsync(request, cancellationToken);
            response.EnsureSuccessStatusCode();
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            Volatile.Write(ref _instances, Parse(json.RootElement).ToArray());
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            // Keep the last copy, as the Eureka client does when a fetch fails.
        }
    }

    private IEnumerable<Uri> Parse(JsonElement root)
    {
        // {"applications":{"application":[{"name":"DRILL","instance":[{"ipAddr":…,"status":"UP","port":{"$":…}}]}]}}
        if (!root.GetProperty("applications").TryGetProperty("application", out var applications))
        {
            yield break;
        }

        foreach (var application in OneOrMany(applications))
        {
            if (!string.Equals(application.GetProperty("name").GetString(), _app, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            foreach (var instance in OneOrMany(application.GetProperty("instance")))
            {
                if (instance.GetProperty("status").GetString() == "UP")
                {
                    var port = instance.GetProperty("port").GetProperty("$");
                    var number = port.ValueKind == JsonValueKind.String ? int.Parse(port.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : port.GetInt32();
                    yield return new Uri($"http://{instance.GetProperty("ipAddr").GetString()}:{number}/");
                }
            }
        }
    }

    // Eureka's JSON codec writes a single element as an object, several as an array.
    private static JsonElement[] OneOrMany(JsonElement element) =>
        element.ValueKind == JsonValueKind.Array ? [.. element.EnumerateArray()] : [element];
}
