using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace GracefulLifecycle.TestSupport.Eureka;

/// <summary>
/// An in-repo fake of a Eureka server, following the published Eureka REST contract (Netflix eureka-core
/// <c>ApplicationResource</c>, <c>InstanceResource</c>, <c>ApplicationsResource</c> and <c>ResponseCacheImpl</c>),
/// because a real Eureka server (a Java service) cannot be installed on the test machines. It runs on real Kestrel
/// at <c>http://127.0.0.1:{port}/eureka/</c>, so the adapter's HTTP calls, failover and timeouts are real.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>POST apps/{APP}</c> with <c>{"instance":{…}}</c>: 204; 400 when <c>instanceId</c>, <c>hostName</c>,
/// <c>ipAddr</c>, <c>app</c>, <c>dataCenterInfo</c> or <c>dataCenterInfo.name</c> is missing or empty, or when
/// <c>app</c> is not <c>{APP}</c> (both upper-cased, as Eureka does).</item>
/// <item><c>PUT apps/{APP}/{ID}?status=&amp;lastDirtyTimestamp=</c> (heartbeat): 200; 404 when the instance is unknown
/// or the timestamp is newer than the registered one (Eureka's "time to sync", which asks the client to register again).</item>
/// <item><c>DELETE apps/{APP}/{ID}</c> (cancel): 200; 404 when unknown. It also drops the status override.</item>
/// <item><c>PUT apps/{APP}/{ID}/status?value=</c>: 200, 404 when unknown, 500 for a value that is not a status;
/// <c>DELETE apps/{APP}/{ID}/status</c>: 200 or 404.</item>
/// <item><c>GET apps</c> and <c>GET apps/{APP}</c> (404 when the application has no instance) are served from a
/// read-only response cache: an entry is filled from the registry the first time it is asked for, then refreshed
/// every response cache update interval on the given <see cref="TimeProvider"/>, so a change shows only after the
/// next refresh. <c>GET apps/{APP}/{ID}</c> reads the registry directly, as in Eureka.</item>
/// </list>
/// Every call is recorded in arrival order. The controls (hold, fail, forget an instance, stop) are the base's, see
/// <see cref="FakeRegistryServer{TCall}"/>; call paths are recorded below the base path (<c>apps/…</c>).
/// </remarks>
public sealed class FakeEurekaServer : FakeRegistryServer<EurekaCall>
{
    public const string BasePath = "/eureka/";

    private static readonly string[] Statuses = ["UP", "DOWN", "STARTING", "OUT_OF_SERVICE", "UNKNOWN"];

    private readonly Dictionary<(string App, string Id), Registration> _registry = [];
    private readonly Dictionary<string, string?> _readOnlyCache = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private ITimer? _cacheTimer;

    private FakeEurekaServer(TimeProvider time, TimeSpan responseCacheUpdateInterval)
    {
        _time = time;
        ResponseCacheUpdateInterval = responseCacheUpdateInterval;
    }

    /// <summary>
    /// Gets the base URL, <c>http://127.0.0.1:{port}/eureka/</c>, under the name of the option a client sets to it
    /// (<c>EurekaOptions.ServiceUrl</c>): unlike the other fakes, Eureka serves below a base path.
    /// </summary>
    public string ServiceUrl => $"http://127.0.0.1:{Port}{BasePath}";

    public int Port { get; private set; }

    public TimeSpan ResponseCacheUpdateInterval { get; }

    /// <summary>Starts a server on 127.0.0.1 with a port the OS picks, or <paramref name="port"/>.</summary>
    public static async Task<FakeEurekaServer> StartAsync(TimeProvider time, TimeSpan? responseCacheUpdateInterval = null, int port = 0)
    {
        var server = new FakeEurekaServer(time, responseCacheUpdateInterval ?? TimeSpan.FromSeconds(30));
        await server.StartServerAsync(port);
        server.Port = server.RootUrl.Port;
        server._cacheTimer = time.CreateTimer(
            static s => ((FakeEurekaServer)s!).RefreshResponseCache(), server, server.ResponseCacheUpdateInterval, server.ResponseCacheUpdateInterval);
        return server;
    }

    /// <summary>Gets a copy of the registered instance (as registered, without the served status), or null.</summary>
    public JsonObject? Instance(string app, string id)
    {
        lock (Gate)
        {
            return _registry.TryGetValue((app.ToUpperInvariant(), id), out var r) ? (JsonObject)r.Instance.DeepClone() : null;
        }
    }

    public int InstanceCount
    {
        get
        {
            lock (Gate)
            {
                return _registry.Count;
            }
        }
    }

    /// <summary>
    /// Removes the instance <paramref name="id"/> (under whichever application it is registered) as Eureka's eviction
    /// does when its lease expires. Records no call.
    /// </summary>
    public override bool Forget(string id)
    {
        lock (Gate)
        {
            var keys = _registry.Keys.Where(k => k.Id == id).ToArray();
            foreach (var key in keys)
            {
                _registry.Remove(key);
            }

            return keys.Length > 0;
        }
    }

    protected override Task OnStoppingAsync()
    {
        _cacheTimer?.Dispose();
        return Task.CompletedTask;
    }

    private static string? Text(JsonNode? node, string name) =>
        node is JsonObject o && o[name] is JsonValue v
            ? v.GetValueKind() switch
            {
                JsonValueKind.String => v.GetValue<string>(),
                JsonValueKind.Number => v.ToJsonString(),
                _ => null,
            }
            : null;

    private static long? Number(string? text) =>
        long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null;

    private static Task Answer(HttpContext context, int status, string? text = null)
    {
        context.Response.StatusCode = status;
        if (text is null)
        {
            return Task.CompletedTask;
        }

        context.Response.ContentType = "text/plain";
        return context.Response.WriteAsync(text);
    }

    private static Task AnswerJson(HttpContext context, string json)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(json);
    }

    protected override void Map(WebApplication app)
    {
        app.MapPost("/eureka/apps/{app}", Register);
        app.MapPut("/eureka/apps/{app}/{id}", Renew);
        app.MapDelete("/eureka/apps/{app}/{id}", Cancel);
        app.MapPut("/eureka/apps/{app}/{id}/status", UpdateStatus);
        app.MapDelete("/eureka/apps/{app}/{id}/status", DeleteStatusOverride);
        app.MapGet("/eureka/apps", GetApplications);
        app.MapGet("/eureka/apps/{app}", GetApplication);
        app.MapGet("/eureka/apps/{app}/{id}", GetInstance);
    }

    protected override EurekaCall CreateCall(int sequence, HttpContext context, string body, long arrivedAt)
    {
        var path = context.Request.Path.Value ?? string.Empty;
        path = path.StartsWith(BasePath, StringComparison.Ordinal) ? path[BasePath.Length..] : path;
        return new EurekaCall(sequence, context.Request.Method, path, context.Request.QueryString.Value ?? string.Empty, _time.GetUtcNow(), arrivedAt, body);
    }

    private Task Register(HttpContext context, string app)
    {
        var appName = app.ToUpperInvariant();
        JsonObject? instance;
        try
        {
            instance = JsonNode.Parse(BodyOf(context))?["instance"] as JsonObject;
        }
        catch (JsonException ex)
        {
            return Answer(context, 400, "Unreadable instance: " + ex.Message);
        }

        if (instance is null)
        {
            return Answer(context, 400, "Missing instance");
        }

        var id = Text(instance, "instanceId");
        var error =
            string.IsNullOrEmpty(id) ? "Missing instanceId"
            : string.IsNullOrEmpty(Text(instance, "hostName")) ? "Missing hostname"
            : string.IsNullOrEmpty(Text(instance, "ipAddr")) ? "Missing ip address"
            : Text(instance, "app") is not { Length: > 0 } bodyApp ? "Missing appName"
            : !string.Equals(bodyApp, appName, StringComparison.OrdinalIgnoreCase) ? $"Mismatched appName, expecting {appName} but was {bodyApp.ToUpperInvariant()}"
            : instance["dataCenterInfo"] is not JsonObject dataCenter ? "Missing dataCenterInfo"
            : string.IsNullOrEmpty(Text(dataCenter, "name")) ? "Missing dataCenterInfo Name"
            : null;
        if (error is not null)
        {
            return Answer(context, 400, error);
        }

        var now = _time.GetUtcNow();
        lock (Gate)
        {
            _registry[(appName, id!)] = new Registration(
                (JsonObject)instance.DeepClone(),
                Number(Text(instance, "lastDirtyTimestamp")) ?? now.ToUnixTimeMilliseconds(),
                Text(instance, "status") ?? "UP",
                now);
        }

        return Answer(context, 204);
    }

    private Task Renew(HttpContext context, string app, string id)
    {
        var lastDirty = Number(context.Request.Query["lastDirtyTimestamp"]);
        lock (Gate)
        {
            if (!_registry.TryGetValue((app.ToUpperInvariant(), id), out var registration))
            {
                return Answer(context, 404);
            }

            if (lastDirty > registration.LastDirtyTimestamp)
            {
                // The client changed since it registered: Eureka asks it to register again.
                return Answer(context, 404);
            }

            registration.LastRenewal = _time.GetUtcNow();
        }

        return Answer(context, 200);
    }

    private Task Cancel(HttpContext context, string app, string id)
    {
        lock (Gate)
        {
            return Answer(context, _registry.Remove((app.ToUpperInvariant(), id)) ? 200 : 404);
        }
    }

    private Task UpdateStatus(HttpContext context, string app, string id)
    {
        string? value = context.Request.Query["value"];
        lock (Gate)
        {
            if (!_registry.TryGetValue((app.ToUpperInvariant(), id), out var registration))
            {
                return Answer(context, 404);
            }

            if (value is null || !Statuses.Contains(value))
            {
                return Answer(context, 500);
            }

            registration.OverriddenStatus = value;
            registration.Status = value;
        }

        return Answer(context, 200);
    }

    private Task DeleteStatusOverride(HttpContext context, string app, string id)
    {
        string? value = context.Request.Query["value"];
        lock (Gate)
        {
            if (!_registry.TryGetValue((app.ToUpperInvariant(), id), out var registration))
            {
                return Answer(context, 404);
            }

            registration.OverriddenStatus = null;
            registration.Status = value is not null && Statuses.Contains(value) ? value : "UNKNOWN";
        }

        return Answer(context, 200);
    }

    private Task GetApplications(HttpContext context) => AnswerJson(context, Cached("ALL_APPS")!);

    private Task GetApplication(HttpContext context, string app) =>
        Cached("APP:" + app.ToUpperInvariant()) is { } json ? AnswerJson(context, json) : Answer(context, 404);

    private Task GetInstance(HttpContext context, string app, string id)
    {
        string json;
        lock (Gate)
        {
            if (!_registry.TryGetValue((app.ToUpperInvariant(), id), out var registration))
            {
                return Answer(context, 404);
            }

            json = new JsonObject { ["instance"] = View(registration) }.ToJsonString();
        }

        return AnswerJson(context, json);
    }

    /// <summary>The read-only response cache: filled on first request, then only by the periodic refresh.</summary>
    private string? Cached(string key)
    {
        lock (Gate)
        {
            if (!_readOnlyCache.TryGetValue(key, out var payload))
            {
                payload = Generate(key);
                _readOnlyCache[key] = payload;
            }

            return payload;
        }
    }

    private void RefreshResponseCache()
    {
        lock (Gate)
        {
            foreach (var key in _readOnlyCache.Keys.ToArray())
            {
                _readOnlyCache[key] = Generate(key);
            }
        }
    }

    private string? Generate(string key)
    {
        var apps = _registry
            .GroupBy(r => r.Key.App, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(r => r.Value).ToArray(), StringComparer.Ordinal);

        if (key == "ALL_APPS")
        {
            var hashCode = string.Concat(apps.Values.SelectMany(a => a)
                .GroupBy(r => r.Status, StringComparer.Ordinal)
                .OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => $"{g.Key}_{g.Count()}_"));
            var list = new JsonArray();
            foreach (var (name, registrations) in apps)
            {
                list.Add(Application(name, registrations));
            }

            return new JsonObject
            {
                ["applications"] = new JsonObject
                {
                    ["versions__delta"] = "1",
                    ["apps__hashcode"] = hashCode,
                    ["application"] = list,
                },
            }.ToJsonString();
        }

        var app = key["APP:".Length..];
        return apps.TryGetValue(app, out var instances)
            ? new JsonObject { ["application"] = Application(app, instances) }.ToJsonString()
            : null;
    }

    private static JsonObject Application(string name, IEnumerable<Registration> registrations) => new()
    {
        ["name"] = name,
        ["instance"] = new JsonArray(registrations.Select(r => (JsonNode)View(r)).ToArray()),
    };

    private static JsonObject View(Registration registration)
    {
        var view = (JsonObject)registration.Instance.DeepClone();
        view["status"] = registration.Status;
        view["overriddenStatus"] = registration.OverriddenStatus ?? "UNKNOWN";
        var lease = view["leaseInfo"] as JsonObject ?? [];
        view["leaseInfo"] = lease;
        lease["registrationTimestamp"] = registration.RegisteredAt.ToUnixTimeMilliseconds();
        lease["lastRenewalTimestamp"] = registration.LastRenewal.ToUnixTimeMilliseconds();
        lease["evictionTimestamp"] = 0;
        lease["serviceUpTimestamp"] = registration.RegisteredAt.ToUnixTimeMilliseconds();
        view["actionType"] = "ADDED";
        return view;
    }

    private sealed class Registration(JsonObject instance, long lastDirtyTimestamp, string status, DateTimeOffset registeredAt)
    {
        public JsonObject Instance { get; } = instance;

        public long LastDirtyTimestamp { get; } = lastDirtyTimestamp;

        public string Status { get; set; } = status;

        public string? OverriddenStatus { get; set; }

        public DateTimeOffset RegisteredAt { get; } = registeredAt;

        public DateTimeOffset LastRenewal { get; set; } = registeredAt;
    }
}
