using System.Diagnostics;

namespace GracefulLifecycle.Drill.Consumer;

/// <summary>
/// Spring Cloud LoadBalancer as Spring Cloud builds it by default (spring-cloud-commons
/// <c>LoadBalancerClientConfiguration</c>: <c>withDiscoveryClient().withCaching()</c>): the instance list comes from
/// the discovery client through a cache whose entry expires a TTL after it was written
/// (<c>CachingServiceInstanceListSupplier</c> over Caffeine's <c>expireAfterWrite</c>,
/// <c>LoadBalancerCacheProperties.ttl</c>, 35 s by default). A request that finds the entry expired asks the
/// discovery client and writes the answer; nothing evicts it on a registry event. Then one instance is picked:
/// <c>RoundRobinLoadBalancer</c> (the default: a position that starts at a random value and goes up by one per
/// pick) or <c>RandomLoadBalancer</c>.
/// </summary>
internal sealed class CachedLoadBalancer
{
    private readonly IDiscoveryClient _discovery;
    private readonly long _ttl;
    private readonly bool _random;
    private readonly Action _listChanged;
    private readonly long _firstAge;
    private readonly Lock _gate = new();
    private IReadOnlyList<Uri> _cached = [];
    private long _writtenAt;
    private bool _hasEntry;
    private int _position;

    /// <param name="discovery">Where the list comes from.</param>
    /// <param name="ttl">The cache's TTL.</param>
    /// <param name="random">Pick at random instead of round-robin.</param>
    /// <param name="age">How old the first entry counts as: consumers started at different moments reload at different moments.</param>
    /// <param name="listChanged">Called after each write, to follow which instances the consumers can still call.</param>
    public CachedLoadBalancer(IDiscoveryClient discovery, TimeSpan ttl, bool random, TimeSpan age, Action listChanged)
    {
        _discovery = discovery;
        _ttl = (long)(ttl.TotalSeconds * Stopwatch.Frequency);
        _random = random;
        _listChanged = listChanged;
        _position = Random.Shared.Next(1000);
        _firstAge = (long)(age.TotalSeconds * Stopwatch.Frequency);
    }

    public string Picker => _random ? "random" : "round-robin";

    /// <summary>Gets the list in the cache now, expired or not.</summary>
    public IReadOnlyList<Uri> Cached
    {
        get
        {
            lock (_gate)
            {
                return _cached;
            }
        }
    }

    /// <summary>Picks the instance for one call, or null when the list is empty.</summary>
    public async Task<Uri?> ChooseAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<Uri> instances;
        bool expired;
        lock (_gate)
        {
            instances = _cached;
            expired = !_hasEntry || Stopwatch.GetTimestamp() - _writtenAt >= _ttl;
        }

        if (expired)
        {
            IReadOnlyList<Uri>? loaded = null;
            try
            {
                loaded = await _discovery.GetInstancesAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
            {
                // The registry did not answer: this call goes to the list already held.
            }

            if (loaded is not null)
            {
                lock (_gate)
                {
                    // The first entry counts as already aged, so that the consumers do not all reload together.
                    _writtenAt = Stopwatch.GetTimestamp() - (_hasEntry ? 0 : _firstAge);
                    _hasEntry = true;
                    _cached = loaded;
                    instances = loaded;
                }

                _listChanged();
            }
        }

        if (instances.Count == 0)
        {
            return null;
        }

        var index = _random ? Random.Shared.Next(instances.Count) : (int)((uint)Interlocked.Increment(ref _position) % (uint)instances.Count);
        return instances[index];
    }
}
