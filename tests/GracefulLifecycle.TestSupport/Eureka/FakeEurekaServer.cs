using System.Globalization;
using System.Text;
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
/// <item><c>POST apps/{APP}</c> with <c>{"instance":{…}}</c>: 204; 400 <c>cannot parse request body</c> when the
/// body cannot be read or its <c>dataCenterInfo</c> has no known <c>@class</c>; 400 when the id (<c>instanceId</c>, or
/// <c>hostName</c> when it is missing or empty), <c>hostName</c>, <c>ipAddr</c>, <c>app</c>, <c>dataCenterInfo</c> or
/// <c>dataCenterInfo.name</c> is missing or empty, or when <c>app</c> is not <c>{APP}</c> (both upper-cased, as Eureka does).</item>
/// <item><c>PUT apps/{APP}/{ID}?status=&amp;lastDirtyTimestamp=</c> (heartbeat): 200; 404 when the instance is unknown,
/// when its status resolves to <c>UNKNOWN</c> (a deleted status override), or when the timestamp is newer than the
/// registered one (Eureka's "time to sync"): each asks the client to register again.</item>
/// <item><c>DELETE apps/{APP}/{ID}</c> (cancel): 200; 404 when unknown. It also drops the status override, which a
/// registration again would otherwise keep.</item>
/// <item><c>PUT apps/{APP}/{ID}/status?value=</c>: 200, 404 when unknown, 500 for a value that is not a status;
/// <c>DELETE apps/{APP}/{ID}/status</c>: 200 or 404.</item>
/// <item><c>GET apps</c> and <c>GET apps/{APP}</c> (404 when the application has no instance) are served from a
/// read-only response cache: an entry is filled from the registry the first time it is asked for, then refreshed
/// every response cache update interval on the given <see cref="TimeProvider"/>, so a change shows only after the
/// next refresh. Started with <c>useReadOnlyResponseCache: false</c> (the server's
/// <c>eureka.server.useReadOnlyResponseCache=false</c>) they read the registry at once. <c>GET apps/{APP}/{ID}</c>
/// reads the registry directly, as in Eureka.</item>
/// <item><c>GET apps/delta</c>: the instances changed within the last 3 minutes, each with its <c>actionType</c>
/// (<c>ADDED</c> at a registration, <c>MODIFIED</c> at a status change or a deleted override, <c>DELETED</c> at a
/// cancel or an eviction), and <c>apps__hashcode</c> of the whole registry for the client to reconcile with
/// (eureka-core <c>AbstractInstanceRegistry</c>: <c>recentlyChangedQueue</c>, filled by <c>register</c>,
/// <c>internalCancel</c>, <c>statusUpdate</c> and <c>deleteStatusOverride</c>, pruned every
/// <c>deltaRetentionTimerIntervalInMs</c> (30 s) of items older than <c>retentionTimeInMSInDeltaQueue</c> (3 min),
/// read by <c>getApplicationDeltas</c>). It is served through the same read-only response cache as <c>apps</c>
/// (<c>ResponseCacheImpl</c>'s <c>ALL_APPS_DELTA</c> key), so a change shows in the delta only after the next refresh.</item>
/// <item>After <see cref="RequireCredentials"/>, every call without <c>Authorization: Basic</c> carrying that user and
/// password is answered 401 with <c>WWW-Authenticate: Basic realm="Realm"</c>, before Eureka sees it: a Eureka server
/// behind Spring Security's basic authentication, as Spring Cloud documents securing it.</item>
/// </list>
/// Every call is recorded in arrival order. The controls (hold, fail, forget an instance, stop) are the base's, see
/// <see cref="FakeRegistryServer{TCall}"/>; call paths are recorded below the base path (<c>apps/…</c>).
/// </remarks>
public sealed class FakeEurekaServer : FakeRegistryServer<EurekaCall>
{
    public const string BasePath = "/eureka/";

    private static readonly string[] Statuses = ["UP", "DOWN", "STARTING", "OUT_OF_SERVICE", "UNKNOWN"];

    /// <summary>The <c>@class</c> ids DataCenterTypeInfoResolver maps to a DataCenterInfo (the first is the "phantom" MyOwn marker).</summary>
    private static readonly string[] DataCenterInfoClasses =
        ["com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo", "com.netflix.appinfo.MyDataCenterInfo", "com.netflix.appinfo.AmazonInfo"];

    private readonly Dictionary<(string App, string Id), Registration> _registry = [];
    private readonly Dictionary<string, string?> _readOnlyCache = new(StringComparer.Ordinal);

    /// <summary>AbstractInstanceRegistry.recentlyChangedQueue: (when, application, the instance as it was, action type).</summary>
    private readonly List<(DateTimeOffset At, string App, JsonObject Instance, string Action)> _recentlyChanged = [];
    private ITimer? _deltaRetentionTimer;

    /// <summary>AbstractInstanceRegistry.overriddenInstanceStatusMap: status overrides by instance id, kept across registrations until a cancel.</summary>
    private readonly Dictionary<string, string> _overrides = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private ITimer? _cacheTimer;
    private (string User, string Password)? _credentials;

    private FakeEurekaServer(TimeProvider time, TimeSpan responseCacheUpdateInterval, bool useReadOnlyResponseCache)
    {
        _time = time;
        ResponseCacheUpdateInterval = responseCacheUpdateInterval;
        UseReadOnlyResponseCache = useReadOnlyResponseCache;
    }

    /// <summary>
    /// Gets the base URL, <c>http://127.0.0.1:{port}/eureka/</c>, under the name of the option a client sets to it
    /// (<c>EurekaOptions.ServiceUrl</c>): unlike the other fakes, Eureka serves below a base path.
    /// </summary>
    public string ServiceUrl => $"http://127.0.0.1:{Port}{BasePath}";

    public int Port { get; private set; }

    public TimeSpan ResponseCacheUpdateInterval { get; }

    /// <summary>How long a change stays in <c>apps/delta</c> (eureka-core DefaultEurekaServerConfig, <c>retentionTimeInMSInDeltaQueue</c>).</summary>
    public static readonly TimeSpan DeltaRetention = TimeSpan.FromMinutes(3);

    /// <summary>How often old changes are pruned from the delta (DefaultEurekaServerConfig, <c>deltaRetentionTimerIntervalInMs</c>).</summary>
    public static readonly TimeSpan DeltaRetentionTimerInterval = TimeSpan.FromSeconds(30);

    /// <summary>Gets how many changes <c>apps/delta</c> holds now.</summary>
    public int RecentlyChangedCount
    {
        get
        {
            lock (Gate)
            {
                return _recentlyChanged.Count;
            }
        }
    }

    /// <summary>
    /// Gets a value indicating whether <c>GET apps</c> and <c>GET apps/{APP}</c> are served from the read-only response
    /// cache (Eureka's default) or, when false, straight from the registry, so every change shows at once.
    /// </summary>
    public bool UseReadOnlyResponseCache { get; }

    /// <summary>Starts a server on 127.0.0.1 with a port the OS picks, or <paramref name="port"/>.</summary>
    /// <param name="time">The clock of the response cache and of the recorded calls.</param>
    /// <param name="responseCacheUpdateInterval">The server's <c>responseCacheUpdateIntervalMs</c>; 30 s by default, as in Eureka.</param>
    /// <param name="port">The port, or 0 for one the OS picks.</param>
    /// <param name="useReadOnlyResponseCache">The server's <c>useReadOnlyResponseCache</c>; true by default, as in Eureka.</param>
    public static async Task<FakeEurekaServer> StartAsync(
        TimeProvider time, TimeSpan? responseCacheUpdateInterval = null, int port = 0, bool useReadOnlyResponseCache = true)
    {
        var server = new FakeEurekaServer(time, responseCacheUpdateInterval ?? TimeSpan.FromSeconds(30), useReadOnlyResponseCache);
        await server.StartServerAsync(port);
        server.Port = server.RootUrl.Port;
        if (useReadOnlyResponseCache)
        {
            // ResponseCacheImpl schedules the read-only cache's refresh only when the cache is in use.
            server._cacheTimer = time.CreateTimer(
                static s => ((FakeEurekaServer)s!).RefreshResponseCache(), server, server.ResponseCacheUpdateInterval, server.ResponseCacheUpdateInterval);
        }

        // AbstractInstanceRegistry's deltaRetentionTimer, scheduled at the registry's start.
        server._deltaRetentionTimer = time.CreateTimer(
            static s => ((FakeEurekaServer)s!).PruneDelta(), server, DeltaRetentionTimerInterval, DeltaRetentionTimerInterval);
        return server;
    }

    /// <summary>
    /// Secures the server as Spring Security's basic authentication does: from now on every call must carry
    /// <c>Authorization: Basic</c> with this user and password (UTF-8, split at the first ':'), or is answered 401.
    /// </summary>
    public void RequireCredentials(string user, string password)
    {
        lock (Gate)
        {
            _credentials = (user, password);
        }
    }

    /// <summary>Gets <see cref="ServiceUrl"/> with <paramref name="user"/> and <paramref name="password"/> percent-encoded into it, as Spring Cloud writes a secured server's URL.</summary>
    public string ServiceUrlWithCredentials(string user, string password) =>
        $"http://{Uri.EscapeDataString(user)}:{Uri.EscapeDataString(password)}@127.0.0.1:{Port}{BasePath}";

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
                // Eviction cancels the lease (AbstractInstanceRegistry.evict -> internalCancel), override included.
                if (_registry.Remove(key, out var evicted))
                {
                    ChangedLocked(key.App, evicted, "DELETED");
                }

                _overrides.Remove(key.Id);
            }

            return keys.Length > 0;
        }
    }

    protected override Task OnStoppingAsync()
    {
        _cacheTimer?.Dispose();
        _deltaRetentionTimer?.Dispose();
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
        app.Use(AuthenticateAsync);
        app.MapPost("/eureka/apps/{app}", Register);
        app.MapPut("/eureka/apps/{app}/{id}", Renew);
        app.MapDelete("/eureka/apps/{app}/{id}", Cancel);
        app.MapPut("/eureka/apps/{app}/{id}/status", UpdateStatus);
        app.MapDelete("/eureka/apps/{app}/{id}/status", DeleteStatusOverride);
        app.MapGet("/eureka/apps", GetApplications);
        app.MapGet("/eureka/apps/delta", GetDelta);
        app.MapGet("/eureka/apps/{app}", GetApplication);
        app.MapGet("/eureka/apps/{app}/{id}", GetInstance);
    }

    protected override EurekaCall CreateCall(int sequence, HttpContext context, string body, long arrivedAt)
    {
        var path = context.Request.Path.Value ?? string.Empty;
        path = path.StartsWith(BasePath, StringComparison.Ordinal) ? path[BasePath.Length..] : path;
        return new EurekaCall(sequence, context.Request.Method, path, context.Request.QueryString.Value ?? string.Empty, _time.GetUtcNow(), arrivedAt, body)
        {
            Authorization = context.Request.Headers.Authorization.Count > 0 ? context.Request.Headers.Authorization.ToString() : null,
        };
    }

    private Task Register(HttpContext context, string app)
    {
        var appName = app.ToUpperInvariant();
        JsonObject? instance;
        try
        {
            instance = JsonNode.Parse(BodyOf(context))?["instance"] as JsonObject;
        }
        catch (JsonException)
        {
            return CannotParse(context);
        }

        if (instance is null)
        {
            return Answer(context, 400, "Missing instance");
        }

        // The body is decoded before ApplicationResource sees it (eureka-client DiscoveryJerseyProvider.readFrom):
        // dataCenterInfo is read as the polymorphic DataCenterInfo (@JsonTypeInfo(use = CLASS, property = "@class"),
        // eureka-client DataCenterInfo.java, DataCenterTypeInfoResolver.java). Without a type id, or with one naming
        // no DataCenterInfo, Jackson throws, and the provider answers 400 "cannot parse request body".
        if (instance["dataCenterInfo"] is JsonObject typed && (Text(typed, "@class") is not { } type || !DataCenterInfoClasses.Contains(type)))
        {
            return CannotParse(context);
        }

        // InstanceInfo.getId() (eureka-client InstanceInfo.java): the instanceId, or the host name when it is null or
        // empty (a DataCenterInfo with its own id, AmazonInfo, comes between; MyOwn has none). ApplicationResource
        // .addInstance checks that id, so "Missing instanceId" means neither is there.
        var id = Text(instance, "instanceId") is { Length: > 0 } instanceId ? instanceId : Text(instance, "hostName");
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
            // AbstractInstanceRegistry.register: an override the instance brings is kept unless one is already known;
            // a known one outlives the registration it was set on; the status is then resolved by the override rules.
            if (Text(instance, "overriddenStatus") is { } brought && brought != "UNKNOWN" && Statuses.Contains(brought))
            {
                _overrides.TryAdd(id!, brought);
            }

            _registry.TryGetValue((appName, id!), out var existing);
            var registration = new Registration(
                (JsonObject)instance.DeepClone(),
                Number(Text(instance, "lastDirtyTimestamp")) ?? now.ToUnixTimeMilliseconds(),
                Text(instance, "status") ?? "UP",
                now)
            {
                OverriddenStatus = _overrides.GetValueOrDefault(id!),
            };
            registration.Status = ResolvedStatus(registration, existing);
            _registry[(appName, id!)] = registration;
            ChangedLocked(appName, registration, "ADDED");
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

            // AbstractInstanceRegistry.renew (eureka-core): the status is resolved by the override rules first
            // (PeerAwareInstanceRegistryImpl: DownOrStartingRule, OverrideExistsRule, LeaseExistsRule, then the
            // instance's own status); UNKNOWN ("possibly due to deleted override", DELETE .../status) fails the renewal,
            // and InstanceResource.renewLease answers 404 so the client registers again.
            var resolved = ResolvedStatus(registration, registration);
            if (resolved == "UNKNOWN")
            {
                return Answer(context, 404);
            }

            registration.Status = resolved;

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
            // AbstractInstanceRegistry.internalCancel drops the status override with the lease.
            var removed = _registry.Remove((app.ToUpperInvariant(), id), out var cancelled);
            if (removed)
            {
                _overrides.Remove(id);
                ChangedLocked(app.ToUpperInvariant(), cancelled!, "DELETED");
            }

            return Answer(context, removed ? 200 : 404);
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

            _overrides[id] = value;
            registration.OverriddenStatus = value;
            registration.Status = value;
            ChangedLocked(app.ToUpperInvariant(), registration, "MODIFIED");
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

            _overrides.Remove(id);
            registration.OverriddenStatus = null;
            registration.Status = value is not null && Statuses.Contains(value) ? value : "UNKNOWN";
            ChangedLocked(app.ToUpperInvariant(), registration, "MODIFIED");
        }

        return Answer(context, 200);
    }

    /// <summary>
    /// The status a registration or a renewal resolves to (PeerAwareInstanceRegistryImpl's rules, first match wins):
    /// DownOrStartingRule trusts any status but UP and OUT_OF_SERVICE; then a known override (OverrideExistsRule);
    /// then the existing lease's status when it is UP or OUT_OF_SERVICE (LeaseExistsRule); then the status itself.
    /// </summary>
    private static string ResolvedStatus(Registration registration, Registration? existing) =>
        registration.Status is not ("UP" or "OUT_OF_SERVICE") ? registration.Status
        : registration.OverriddenStatus
            ?? (existing?.Status is "UP" or "OUT_OF_SERVICE" ? existing.Status : registration.Status);

    /// <summary>
    /// Spring Security's basic authentication in front of Eureka (spring-security <c>BasicAuthenticationConverter</c>:
    /// scheme matched ignoring case, Base64, UTF-8, user and password split at the first ':';
    /// <c>BasicAuthenticationEntryPoint</c>: 401 with <c>WWW-Authenticate: Basic realm="Realm"</c>, the realm
    /// <c>HttpBasicConfigurer</c> defaults to).
    /// </summary>
    private Task AuthenticateAsync(HttpContext context, RequestDelegate next)
    {
        (string User, string Password)? required;
        lock (Gate)
        {
            required = _credentials;
        }

        if (required is not { } credentials || Presented(context.Request.Headers.Authorization.ToString()) == (credentials.User, credentials.Password))
        {
            return next(context);
        }

        context.Response.StatusCode = 401;
        context.Response.Headers.WWWAuthenticate = "Basic realm=\"Realm\"";
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(new JsonObject
        {
            ["status"] = 401,
            ["error"] = "Unauthorized",
            ["path"] = context.Request.Path.Value,
        }.ToJsonString());

        static (string, string)? Presented(string header)
        {
            header = header.Trim();
            if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }

            try
            {
                var token = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
                var colon = token.IndexOf(':', StringComparison.Ordinal);
                return colon < 0 ? null : (token[..colon], token[(colon + 1)..]);
            }
            catch (FormatException)
            {
                return null;
            }
        }
    }

    /// <summary>DiscoveryJerseyProvider.createErrorReply: the JSON form for a JSON request, the XML form otherwise.</summary>
    private static Task CannotParse(HttpContext context)
    {
        const string Message = "cannot parse request body";
        var json = string.Equals(context.Request.ContentType, "application/json", StringComparison.OrdinalIgnoreCase);
        context.Response.StatusCode = 400;
        context.Response.ContentType = json ? "application/json" : "application/xml";
        return context.Response.WriteAsync(json ? $"{{\"error\": \"{Message}\"}}" : $"<error><message>{Message}</message></error>");
    }

    private Task GetApplications(HttpContext context) => AnswerJson(context, Cached("ALL_APPS")!);

    private Task GetDelta(HttpContext context) => AnswerJson(context, Cached("ALL_APPS_DELTA")!);

    /// <summary>A change the delta reports: the instance as it is now (as it was, for a cancel), with its action type.</summary>
    private void ChangedLocked(string app, Registration registration, string action)
    {
        var view = View(registration);
        view["actionType"] = action;
        _recentlyChanged.Add((_time.GetUtcNow(), app, view, action));
    }

    /// <summary>AbstractInstanceRegistry.getDeltaRetentionTask: drops the changes older than the retention.</summary>
    private void PruneDelta()
    {
        lock (Gate)
        {
            var cutoff = _time.GetUtcNow() - DeltaRetention;
            _recentlyChanged.RemoveAll(c => c.At < cutoff);
        }
    }

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

    /// <summary>
    /// The read-only response cache: filled on first request, then only by the periodic refresh. Without it
    /// (ResponseCacheImpl.getValue with useReadOnlyCache false) the answer comes from the read-write cache, which every
    /// register, cancel and status change invalidates (AbstractInstanceRegistry.invalidateCache): the registry as it is now.
    /// </summary>
    private string? Cached(string key)
    {
        lock (Gate)
        {
            if (!UseReadOnlyResponseCache)
            {
                return Generate(key);
            }

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

        var hashCode = string.Concat(apps.Values.SelectMany(a => a)
            .GroupBy(r => r.Status, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{g.Key}_{g.Count()}_"));
        if (key == "ALL_APPS_DELTA")
        {
            // getApplicationDeltas: the changed instances grouped by application, the hash code of the whole registry.
            var changed = new JsonArray();
            foreach (var group in _recentlyChanged.GroupBy(c => c.App, StringComparer.Ordinal))
            {
                changed.Add(new JsonObject
                {
                    ["name"] = group.Key,
                    ["instance"] = new JsonArray(group.Select(c => c.Instance.DeepClone()).ToArray()),
                });
            }

            return new JsonObject
            {
                ["applications"] = new JsonObject
                {
                    ["versions__delta"] = "1",
                    ["apps__hashcode"] = hashCode,
                    ["application"] = changed,
                },
            }.ToJsonString();
        }

        if (key == "ALL_APPS")
        {
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
