using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace GracefulLifecycle.TestSupport.Consul;

/// <summary>
/// An in-repo fake of a Consul agent's HTTP API. It follows the Consul agent as its source shows it
/// (hashicorp/consul, files named by each rule) because a real Consul agent cannot be installed on the test machines.
/// It runs on real Kestrel, bound to 127.0.0.1 on a port the OS picks, and keeps its timers (checks, reaper) on the
/// <see cref="TimeProvider"/> it is given: the system clock for real-time runs, a fake clock for long timings.
/// </summary>
/// <remarks>
/// <para>The behaviour it reproduces:</para>
/// <list type="bullet">
/// <item><c>PUT /v1/agent/service/register</c>: 200 with an empty body; 400 <c>Request decode failed: …</c> when the
/// body is not JSON, <c>Missing service name</c> without <c>Name</c>, <c>Invalid check: Interval must be &gt; 0 …</c>
/// for an HTTP check without an interval. <c>ID</c> defaults to the name. <c>Check</c> and <c>Checks</c> may both be
/// sent, <c>Check</c> first; check IDs default to <c>service:{id}</c>, numbered <c>service:{id}:1</c>, <c>:2</c>, … when
/// there are several, names to <c>Service '{name}' check</c> (agent/agent.go, <c>addServiceInternal</c>). A new check
/// starts critical. Field names are matched case-insensitively, as Consul's decoder does.</item>
/// <item>An interval below one second is raised to one second (agent/checks/check.go <c>MinInterval</c>, applied in
/// agent/agent.go <c>addCheck</c>); a <c>DeregisterCriticalServiceAfter</c> below one minute is raised to one minute,
/// not refused (agent/agent.go <c>addCheck</c>, <c>CheckDeregisterIntervalMin</c> in agent/config/default.go).</item>
/// <item>HTTP checks run periodically: the first run after a random stagger within one interval
/// (<c>lib.RandomStagger</c> in <c>CheckHTTP.run</c>, agent/checks/check.go), then one interval after each run ends.
/// Each run calls the URL with its timeout and without keep-alive; 2xx is passing, 429 warning, anything else or no
/// answer critical (<c>CheckHTTP.check</c>).</item>
/// <item>The reaper: every 30 seconds (<c>CheckReapInterval</c>, agent/config/default.go) it removes every service one
/// of whose checks has been critical for longer than that check's <c>DeregisterCriticalServiceAfter</c>
/// (agent/agent.go <c>reapServicesInternal</c>, agent/local/state.go <c>CheckState.CriticalFor</c>). The critical time
/// starts when a run first finds the check critical and is cleared when one finds it not (agent/local/state.go
/// <c>UpdateCheck</c>); a new check starts critical but without a critical time (<c>addCheckLocked</c> sets none), so
/// it counts from its first run. A check without the setting never removes its service.</item>
/// <item><c>PUT /v1/agent/service/deregister/{id}</c>: 200; 404 <c>Unknown service ID "…". Ensure that the service
/// ID is passed, not the service name.</c> for an ID it does not know (Consul since 2021; older agents answered 200).</item>
/// <item><c>GET /v1/agent/service/{id}</c>: 200 with the service as JSON; 404 when unknown.</item>
/// <item><c>PUT /v1/agent/service/maintenance/{id}?enable=true&amp;reason=…</c>: 200, adds a critical
/// <c>_service_maintenance:{id}</c> check (idempotent); <c>enable=false</c> removes it; 400 without or with an
/// invalid <c>enable</c>; 404 when unknown.</item>
/// <item><c>GET /v1/health/service/{name}[?passing]</c>: <c>[{"Node":…,"Service":{…},"Checks":[…]}]</c>, with
/// <c>passing</c> only the entries whose checks all pass (the node's serfHealth check is left out).</item>
/// <item>Blocking queries on <c>GET /v1/health/service/{name}</c>: every answer carries <c>X-Consul-Index</c>, the
/// index of the last change to that service (a registration, a deregistration, a reap, a check's status or
/// maintenance changing), or, for a name never registered, of the last change to any service (the state store's
/// <c>maxIndexForService</c> falls back to the services table's index, agent/consul/state/catalog.go); never below 1
/// (agent/consul/rpc.go <c>blockingQuery</c>: "we return an index &gt; 0 otherwise the client will never block").
/// <c>?index=N</c> holds the answer while that index is at most N, up to <c>?wait</c> (a Go duration; default 5
/// minutes, at most 10: <c>DefaultQueryTime</c> and <c>MaxQueryTime</c>, agent/config/default.go) plus a random
/// jitter of up to a sixteenth of it (<c>lib.RandomStagger(queryTimeout / jitterFraction)</c>, agent/consul/rpc.go),
/// then answers the list as it is, with the same index. Without <c>index</c> (or 0) it answers at once. A <c>wait</c>
/// or <c>index</c> that does not parse is 400 <c>Invalid wait time</c> / <c>Invalid index</c> (agent/http.go
/// <c>parseWait</c>). The client's rules (website/content/api-docs/features/blocking.mdx: an index that goes
/// backwards resets it to 0, a 0 is raised to 1) are the client's: the fake's index never goes backwards unless it
/// is restarted with <see cref="ResetIndex"/>.</item>
/// <item>ACLs, when the fake is given a token: the token is read from <c>?token=</c>, else <c>X-Consul-Token</c>, else
/// <c>Authorization: Bearer</c> (agent/http.go <c>parseTokenInternal</c>, <c>parseTokenFromHeaders</c>). A call without
/// one gets 403 <c>Permission denied</c>, a call with an unknown one 403 <c>ACL not found</c>. The fake checks the token
/// before the body (Consul validates the body first).</item>
/// </list>
/// <para><see cref="RunChecksAsync"/> runs every HTTP check once more, now, for a test that needs a result without
/// moving the clock. <c>GET /_fake/status/{code}</c> answers that status code, a check target for contract tests; it
/// is not part of Consul's API.</para>
/// <para>The controls (hold, fail, forget a service, unavailable, stop) are the base's, see
/// <see cref="FakeRegistryServer{TCall}"/>; only agent calls (<c>/v1/…</c>) are recorded.</para>
/// </remarks>
public sealed class FakeConsulAgent : FakeRegistryServer<AgentCall>
{
    /// <summary>How often the reaper looks for services to remove (hashicorp/consul agent/config/default.go, <c>CheckReapInterval</c>).</summary>
    public static readonly TimeSpan CheckReapInterval = TimeSpan.FromSeconds(30);

    /// <summary>The shortest check interval (hashicorp/consul agent/checks/check.go, <c>MinInterval</c>).</summary>
    public static readonly TimeSpan MinimumCheckInterval = TimeSpan.FromSeconds(1);

    /// <summary>The shortest reap timeout (hashicorp/consul agent/config/default.go, <c>CheckDeregisterIntervalMin</c>).</summary>
    public static readonly TimeSpan MinimumDeregisterCriticalServiceAfter = TimeSpan.FromMinutes(1);

    /// <summary>A blocking query's wait when it sets none (hashicorp/consul agent/config/default.go, <c>default_query_time</c>).</summary>
    public static readonly TimeSpan DefaultQueryTime = TimeSpan.FromMinutes(5);

    /// <summary>The longest wait of a blocking query (hashicorp/consul agent/config/default.go, <c>max_query_time</c>).</summary>
    public static readonly TimeSpan MaxQueryTime = TimeSpan.FromMinutes(10);

    private const string TokenHeader = "X-Consul-Token";
    private const string AddressField = "Address";
    private const string Critical = "critical";

    private readonly Dictionary<string, AgentService> _services = new(StringComparer.Ordinal);
    private readonly List<CheckRun> _checkRuns = [];
    private readonly HashSet<Task> _checksInFlight = [];
    private readonly HttpClient _checks = new(new SocketsHttpHandler { UseProxy = false });
    private readonly string? _aclToken;
    private readonly Dictionary<string, long> _serviceIndex = new(StringComparer.Ordinal);
    private ITimer? _reaper;
    private long _runSequence;
    private long _index = 10;
    private int _restores;
    private TaskCompletionSource _indexChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource _blocking = new();

    private FakeConsulAgent(string? aclToken, TimeProvider time)
    {
        _aclToken = aclToken;
        Time = time;
    }

    /// <summary>
    /// Gets the agent's base address, such as <c>http://127.0.0.1:40123/</c>: <see cref="FakeRegistryServer{TCall}.RootUrl"/> under
    /// the name of the option a client sets to it (<c>ConsulOptions.Address</c>).
    /// </summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>Gets the clock of the agent's checks and reaper.</summary>
    public TimeProvider Time { get; }

    /// <summary>Gets the services registered now.</summary>
    public IReadOnlyList<AgentService> Services
    {
        get
        {
            lock (Gate)
            {
                return _services.Values.ToArray();
            }
        }
    }

    /// <summary>Gets every check run whose result was applied, in that order.</summary>
    public IReadOnlyList<CheckRun> CheckRuns
    {
        get
        {
            lock (Gate)
            {
                return [.. _checkRuns];
            }
        }
    }

    /// <summary>Gets the IDs of the services the reaper removed, in that order.</summary>
    public IReadOnlyList<string> Reaped
    {
        get
        {
            lock (Gate)
            {
                return [.. ReapedLocked];
            }
        }
    }

    private List<string> ReapedLocked { get; } = [];

    /// <summary>Starts the agent on a port the OS picks.</summary>
    /// <param name="aclToken">When set, every call must carry this token.</param>
    /// <param name="time">The clock of the checks and the reaper; the system clock when <see langword="null"/>. With a
    /// fake clock, nothing runs until the test moves it (<see cref="RunChecksAsync"/> still runs the checks).</param>
    public static async Task<FakeConsulAgent> StartAsync(string? aclToken = null, TimeProvider? time = null)
    {
        var agent = new FakeConsulAgent(aclToken, time ?? TimeProvider.System);
        await agent.StartServerAsync();
        agent.Address = agent.RootUrl;

        // The reaper runs from the agent's start, on its own schedule (agent/agent.go reapServices).
        agent._reaper = agent.Time.CreateTimer(static s => ((FakeConsulAgent)s!).Reap(), agent, CheckReapInterval, CheckReapInterval);
        return agent;
    }

    /// <summary>Gets the index of the last change to any service.</summary>
    public long Index
    {
        get
        {
            lock (Gate)
            {
                return _index;
            }
        }
    }

    /// <summary>
    /// Sets every index back to <paramref name="index"/>, as a cluster restored from an older snapshot answers: the
    /// blocking queries in flight return at once (agent/consul/rpc.go <c>blockingQuery</c> bails out when the state
    /// store is abandoned by a restore), with the lower index, which the client must notice went backwards.
    /// </summary>
    public void ResetIndex(long index)
    {
        lock (Gate)
        {
            _index = index;
            _restores++;
            foreach (var name in _serviceIndex.Keys.ToArray())
            {
                _serviceIndex[name] = index;
            }

            WakeBlockingLocked();
        }
    }

    public AgentService? Service(string id)
    {
        lock (Gate)
        {
            return _services.GetValueOrDefault(id);
        }
    }

    /// <summary>Drops a service without a call, as an agent restarted without persistence would have.</summary>
    public override bool Forget(string id)
    {
        lock (Gate)
        {
            return RemoveLocked(id);
        }
    }

    /// <summary>
    /// Runs every HTTP check once, now, besides their schedule, and returns each service's resulting status by service
    /// ID (see <see cref="AgentService.CheckStatus"/>).
    /// </summary>
    public async Task<IReadOnlyDictionary<string, string>> RunChecksAsync()
    {
        (AgentService Service, AgentCheck Check)[] checks;
        lock (Gate)
        {
            checks = _services.Values.SelectMany(s => s.Checks.Where(c => c.Http is not null).Select(c => (s, c))).ToArray();
        }

        await Task.WhenAll(checks.Select(c => RunCheckAsync(c.Service, c.Check, scheduled: false)));
        lock (Gate)
        {
            return checks.Select(c => c.Service).Distinct().ToDictionary(s => s.Id, s => s.CheckStatus, StringComparer.Ordinal);
        }
    }

    /// <summary>Waits until every check run started so far has applied its result: with a fake clock, the runs a move of
    /// the clock started are real HTTP calls that end in real time.</summary>
    public async Task ChecksCompletedAsync(TimeSpan? timeout = null)
    {
        Task[] running;
        lock (Gate)
        {
            running = [.. _checksInFlight];
        }

        await Task.WhenAll(running).WaitAsync(timeout ?? TimeSpan.FromSeconds(30));
    }

    protected override Task OnStoppingAsync()
    {
        lock (Gate)
        {
            // Blocking queries end with the agent: their connections are dropped, not answered.
            _blocking.Cancel();
            _blocking = new CancellationTokenSource();
            _reaper?.Dispose();
            foreach (var check in _services.Values.SelectMany(s => s.Checks))
            {
                StopLocked(check);
            }
        }

        return Task.CompletedTask;
    }

    protected override ValueTask OnDisposedAsync()
    {
        _checks.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Returns a random stagger within <paramref name="interval"/> (hashicorp/consul lib/cluster.go, <c>RandomStagger</c>).</summary>
    private static TimeSpan RandomStagger(TimeSpan interval) =>
        interval <= TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromTicks(Random.Shared.NextInt64(interval.Ticks));

    private void StartLocked(AgentService service, AgentCheck check)
    {
        if (check.Http is null)
        {
            return;
        }

        check.Timer = Time.CreateTimer(
            _ => _ = RunCheckAsync(service, check, scheduled: true), null, RandomStagger(check.Interval), System.Threading.Timeout.InfiniteTimeSpan);
    }

    private static void StopLocked(AgentCheck check)
    {
        check.Stopped = true;
        check.Timer?.Dispose();
        check.Timer = null;
    }

    private Task RunCheckAsync(AgentService service, AgentCheck check, bool scheduled)
    {
        Task run;
        lock (Gate)
        {
            if (check.Stopped)
            {
                return Task.CompletedTask;
            }

            run = RunAsync(_runSequence++, Time.GetUtcNow());
            _checksInFlight.Add(run);
        }

        return run;

        async Task RunAsync(long sequence, DateTimeOffset startedAt)
        {
            await Task.Yield();
            try
            {
                var (status, output) = await CheckAsync(check);
                lock (Gate)
                {
                    // A result older than the one applied last (a test's run overlapping a scheduled one) is dropped.
                    if (!check.Stopped && sequence > check.LastAppliedRun)
                    {
                        check.LastAppliedRun = sequence;
                        UpdateLocked(check, status, output);
                        _checkRuns.Add(new CheckRun(service.Id, check.Id, startedAt, status, scheduled));
                    }

                    // The next run is one interval after this one ended (agent/checks/check.go, CheckHTTP.run:
                    // time.After(Interval) once check() returns).
                    if (scheduled && !check.Stopped)
                    {
                        check.Timer?.Change(check.Interval, System.Threading.Timeout.InfiniteTimeSpan);
                    }
                }
            }
            finally
            {
                lock (Gate)
                {
                    _checksInFlight.RemoveWhere(t => t.IsCompleted);
                }
            }
        }
    }

    /// <summary>Sets a check's status and when it turned critical (hashicorp/consul agent/local/state.go, <c>UpdateCheck</c>:
    /// the time is kept while it stays critical and cleared when it is not).</summary>
    private void UpdateLocked(AgentCheck check, string status, string output)
    {
        // A new status reaches the catalog (agent/local/state.go UpdateCheck marks the check out of sync, the
        // anti-entropy sync writes it): the service's index moves; the same status again changes nothing.
        if (status != check.Status)
        {
            BumpLocked(ServiceNameOfLocked(check));
        }

        if (status == Critical)
        {
            check.CriticalSince ??= Time.GetUtcNow();
        }
        else
        {
            check.CriticalSince = null;
        }

        check.Status = status;
        check.Output = output;
    }

    /// <summary>One pass of the reaper (hashicorp/consul agent/agent.go, <c>reapServicesInternal</c>): a service goes when
    /// one of its checks has a reap timeout and has been critical for longer than it.</summary>
    private void Reap()
    {
        lock (Gate)
        {
            var now = Time.GetUtcNow();
            var due = _services.Values
                .Where(s => s.Checks.Any(c =>
                    c.DeregisterCriticalServiceAfter > TimeSpan.Zero && c.CriticalSince is { } since && now - since > c.DeregisterCriticalServiceAfter))
                .Select(s => s.Id)
                .ToArray();
            foreach (var id in due)
            {
                RemoveLocked(id);
                ReapedLocked.Add(id);
            }
        }
    }

    private bool RemoveLocked(string id)
    {
        if (!_services.Remove(id, out var service))
        {
            return false;
        }

        BumpLocked(service.Name);

        foreach (var check in service.Checks)
        {
            StopLocked(check);
        }

        return true;
    }

    private async Task<(string Status, string Output)> CheckAsync(AgentCheck check)
    {
        // The timeout is on the wall clock: it bounds a real HTTP call, which a fake clock moved ahead must not cut short.
        using var timeout = new CancellationTokenSource(check.Timeout);
        try
        {
            using var request = new HttpRequestMessage(new HttpMethod(check.Method), check.Http);
            request.Headers.ConnectionClose = true;
            request.Headers.UserAgent.ParseAdd("Consul Health Check");
            using var response = await _checks.SendAsync(request, timeout.Token);
            var code = (int)response.StatusCode;
            var output = $"HTTP {check.Method} {check.Http}: {code} {response.ReasonPhrase}";
            return code switch
            {
                >= 200 and < 300 => ("passing", output),
                429 => ("warning", output),
                _ => (Critical, output),
            };
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or SocketException or ObjectDisposedException
            or InvalidOperationException or UriFormatException or ArgumentException)
        {
            // A request that cannot be made or answered is critical, as CheckHTTP.check reports a failed request.
            return (Critical, $"HTTP {check.Method} {check.Http}: {ex.Message}");
        }
    }

    protected override void Map(WebApplication app)
    {
        app.Use(CheckTokenAsync);
        app.MapPut("/v1/agent/service/register", Register);
        app.MapPut("/v1/agent/service/deregister/{id}", (HttpContext context, string id) => Deregister(id));
        app.MapGet("/v1/agent/service/{id}", (string id) => ReadService(id));
        app.MapPut("/v1/agent/service/maintenance/{id}", (HttpContext context, string id) => Maintenance(context, id));
        app.MapGet("/v1/health/service/{name}", (HttpContext context, string name) => Health(context, name));
        app.MapGet("/_fake/status/{code:int}", (int code) => Results.StatusCode(code));
    }

    // The check target (/_fake/status) is the fake's own helper, not an agent call: not recorded, never held.
    protected override bool IsRegistryCall(HttpContext context) => context.Request.Path.StartsWithSegments("/v1", StringComparison.Ordinal);

    protected override AgentCall CreateCall(int sequence, HttpContext context, string body, long arrivedAt) =>
        new(sequence, context.Request.Method, context.Request.Path.Value!, context.Request.QueryString.Value ?? string.Empty, body, arrivedAt, TokenOf(context));

    /// <summary>
    /// The token as the agent reads it (hashicorp/consul agent/http.go, <c>parseTokenInternal</c> and
    /// <c>parseTokenFromHeaders</c>): <c>?token=</c> first, then <c>X-Consul-Token</c>, then <c>Authorization</c> with the
    /// scheme <c>Bearer</c> (any case) and the rest of the header, trimmed, as the token.
    /// </summary>
    private static string? TokenOf(HttpContext context)
    {
        if (context.Request.Query["token"].ToString() is { Length: > 0 } query)
        {
            return query;
        }

        if (context.Request.Headers[TokenHeader].ToString() is { Length: > 0 } header)
        {
            return header;
        }

        var parts = context.Request.Headers.Authorization.ToString().Split(' ');
        return parts.Length > 1 && string.Equals(parts[0], "bearer", StringComparison.OrdinalIgnoreCase) &&
            string.Join(' ', parts[1..]).Trim() is { Length: > 0 } bearer
            ? bearer
            : null;
    }

    /// <summary>Enforces the ACL token on agent calls, after the base recorded (and maybe held) them.</summary>
    private async Task CheckTokenAsync(HttpContext context, RequestDelegate next)
    {
        var token = TokenOf(context);
        if (_aclToken is not null && IsRegistryCall(context) && token != _aclToken)
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await context.Response.WriteAsync(token is null ? "Permission denied" : "ACL not found", context.RequestAborted);
            return;
        }

        await next(context);
    }

    private IResult Register(HttpContext context)
    {
        var body = BodyOf(context);
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(body);
            root = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            return Text(400, $"Request decode failed: {ex.Message}");
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            return Text(400, "Request decode failed: json: cannot unmarshal " + root.ValueKind.ToString().ToLowerInvariant() + " into Go value of type structs.ServiceDefinition");
        }

        var name = String(root, "Name");
        if (string.IsNullOrEmpty(name))
        {
            return Text(400, "Missing service name");
        }

        var address = String(root, AddressField) ?? string.Empty;
        if (IPAddress.TryParse(address, out var ip) && (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any)))
        {
            return Text(400, "Invalid service address");
        }

        // Check first, then Checks (hashicorp/consul api ServiceDefinition.CheckTypes).
        var definitions = new List<JsonElement>();
        if (Property(root, "Check") is { ValueKind: JsonValueKind.Object } single)
        {
            definitions.Add(single);
        }

        if (Property(root, "Checks") is { ValueKind: JsonValueKind.Array } many)
        {
            definitions.AddRange(many.EnumerateArray().Where(c => c.ValueKind == JsonValueKind.Object));
        }

        var id = String(root, "ID") is { Length: > 0 } given ? given : name;
        var checks = new List<AgentCheck>();
        for (var i = 0; i < definitions.Count; i++)
        {
            var (check, error) = ParseCheck(definitions[i], id, name, i, definitions.Count);
            if (error is not null)
            {
                return Text(400, error);
            }

            checks.Add(check!);
        }

        var service = new AgentService
        {
            Id = id,
            Name = name,
            Address = address,
            Port = Property(root, "Port") is { ValueKind: JsonValueKind.Number } port ? port.GetInt32() : 0,
            Tags = Property(root, "Tags") is { ValueKind: JsonValueKind.Array } tags ? tags.EnumerateArray().Select(t => t.GetString()!).ToArray() : [],
            Meta = Property(root, "Meta") is { ValueKind: JsonValueKind.Object } meta
                ? meta.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal)
                : new Dictionary<string, string>(StringComparer.Ordinal),
            Checks = checks,
        };

        lock (Gate)
        {
            RemoveLocked(service.Id);
            _services[service.Id] = service;
            BumpLocked(service.Name);
            foreach (var check in checks)
            {
                // A new check starts critical (agent/agent.go addServiceInternal), its critical time unset until a run
                // finds it critical (agent/local/state.go addCheckLocked, UpdateCheck).
                StartLocked(service, check);
            }
        }

        return Results.Ok();
    }

    /// <summary>Reads one check of a service definition, or says why the agent refuses it.</summary>
    private static (AgentCheck? Check, string? Error) ParseCheck(JsonElement definition, string serviceId, string serviceName, int index, int count)
    {
        var http = String(definition, "HTTP");
        var interval = TimeSpan.Zero;
        var timeout = TimeSpan.FromSeconds(10);
        var deregisterAfter = TimeSpan.Zero;
        var ttl = TimeSpan.Zero;
        foreach (var (field, apply) in new (string, Action<TimeSpan>)[]
        {
            ("Interval", v => interval = v),
            ("Timeout", v => timeout = v),
            ("DeregisterCriticalServiceAfter", v => deregisterAfter = v),
            ("TTL", v => ttl = v),
        })
        {
            if (Property(definition, field) is { } raw)
            {
                if (!GoDurationParser.TryParse(raw, out var value))
                {
                    return (null, $"Request decode failed: time: invalid duration \"{raw}\"");
                }

                apply(value);
            }
        }

        if (http is not null && interval <= TimeSpan.Zero)
        {
            return (null, "Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks");
        }

        if (http is null && ttl <= TimeSpan.Zero)
        {
            return (null, "Invalid check: TTL must be > 0 for TTL checks");
        }

        // Raised, not refused (agent/agent.go addCheck): the interval to MinInterval (agent/checks/check.go), the reap
        // timeout to CheckDeregisterIntervalMin (agent/config/default.go).
        if (http is not null && interval < MinimumCheckInterval)
        {
            interval = MinimumCheckInterval;
        }

        if (deregisterAfter > TimeSpan.Zero && deregisterAfter < MinimumDeregisterCriticalServiceAfter)
        {
            deregisterAfter = MinimumDeregisterCriticalServiceAfter;
        }

        // Default ID and name (agent/agent.go addServiceInternal).
        var checkId = String(definition, "CheckID") is { Length: > 0 } givenId
            ? givenId
            : count > 1 ? $"service:{serviceId}:{index + 1}" : $"service:{serviceId}";
        return (new AgentCheck
        {
            Id = checkId,
            Name = String(definition, "Name") is { Length: > 0 } givenName ? givenName : $"Service '{serviceName}' check",
            Type = http is not null ? "http" : "ttl",
            Http = http,
            Method = String(definition, "Method") is { Length: > 0 } method ? method : "GET",
            Interval = interval,
            Timeout = timeout,
            DeregisterCriticalServiceAfter = deregisterAfter,
        }, null);
    }

    private IResult Deregister(string id)
    {
        lock (Gate)
        {
            return RemoveLocked(id) ? Results.Ok() : UnknownService(id);
        }
    }

    private IResult ReadService(string id)
    {
        lock (Gate)
        {
            if (!_services.TryGetValue(id, out var service))
            {
                return UnknownService(id);
            }

            return Json(json =>
            {
                json.WriteStartObject();
                WriteService(json, service, serviceField: "Service");
                json.WriteStartObject("Weights");
                json.WriteNumber("Passing", 1);
                json.WriteNumber("Warning", 1);
                json.WriteEndObject();
                json.WriteBoolean("EnableTagOverride", false);
                json.WriteString("Datacenter", "dc1");
                json.WriteEndObject();
            });
        }
    }

    private IResult Maintenance(HttpContext context, string id)
    {
        var query = context.Request.Query;
        if (!query.TryGetValue("enable", out var raw))
        {
            return Text(400, "Missing value for enable");
        }

        if (!bool.TryParse(raw.ToString(), out var enable))
        {
            return Text(400, $"Invalid value for enable: \"{raw}\"");
        }

        lock (Gate)
        {
            if (!_services.TryGetValue(id, out var service))
            {
                return UnknownService(id);
            }

            var reason = query["reason"].ToString();
            if ((service.MaintenanceReason is not null) != enable)
            {
                BumpLocked(service.Name);
            }

            service.MaintenanceReason = !enable
                ? null
                : reason.Length > 0 ? reason : "Maintenance mode is enabled for this service, but no reason was provided. This is a default message.";
        }

        return Results.Ok();
    }

    private async Task<IResult> Health(HttpContext context, string name)
    {
        var passingOnly = context.Request.Query.TryGetValue("passing", out var passing) &&
            (string.IsNullOrEmpty(passing.ToString()) || !bool.TryParse(passing.ToString(), out var value) || value);

        // agent/http.go parseWait: a Go duration and an unsigned integer, else 400.
        var wait = TimeSpan.Zero;
        if (context.Request.Query["wait"].ToString() is { Length: > 0 } rawWait && !GoDurationParser.TryParse(rawWait, out wait))
        {
            return Text(400, "Invalid wait time");
        }

        ulong minIndex = 0;
        if (context.Request.Query["index"].ToString() is { Length: > 0 } rawIndex && !ulong.TryParse(rawIndex, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out minIndex))
        {
            return Text(400, "Invalid index");
        }

        if (minIndex > 0)
        {
            // agent/consul/rpc.go blockingQuery: the wait bounded by MaxQueryTime, DefaultQueryTime when unset, plus
            // a jitter of up to a sixteenth of it.
            var timeout = wait > MaxQueryTime ? MaxQueryTime : wait <= TimeSpan.Zero ? DefaultQueryTime : wait;
            timeout += RandomStagger(timeout / 16);
            Task changed;
            CancellationToken stopping;
            int restores;
            lock (Gate)
            {
                stopping = _blocking.Token;
                restores = _restores;
            }

            using var expired = new CancellationTokenSource(timeout, Time);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(expired.Token, stopping, context.RequestAborted);
            while (true)
            {
                lock (Gate)
                {
                    if ((ulong)IndexOfLocked(name) > minIndex || _restores != restores)
                    {
                        break;
                    }

                    changed = _indexChanged.Task;
                }

                try
                {
                    await changed.WaitAsync(stop.Token);
                }
                catch (OperationCanceledException) when (expired.IsCancellationRequested && !stopping.IsCancellationRequested)
                {
                    // Timed out: the list as it is, with the same index.
                    break;
                }
                catch (OperationCanceledException)
                {
                    context.Abort();
                    return Results.Empty;
                }
            }
        }

        lock (Gate)
        {
            context.Response.Headers["X-Consul-Index"] = IndexOfLocked(name).ToString(System.Globalization.CultureInfo.InvariantCulture);
            context.Response.Headers["X-Consul-KnownLeader"] = "true";
            context.Response.Headers["X-Consul-LastContact"] = "0";
            var entries = _services.Values
                .Where(s => s.Name == name)
                .Select(s => (Service: s, Checks: ChecksOf(s)))
                .Where(e => !passingOnly || e.Checks.All(c => c.Status == "passing"))
                .ToArray();
            return Json(json =>
            {
                json.WriteStartArray();
                foreach (var (service, checks) in entries)
                {
                    json.WriteStartObject();
                    json.WriteStartObject("Node");
                    json.WriteString("Node", "fake-node");
                    json.WriteString(AddressField, "127.0.0.1");
                    json.WriteString("Datacenter", "dc1");
                    json.WriteEndObject();
                    json.WriteStartObject("Service");
                    WriteService(json, service, serviceField: "Service");
                    json.WriteEndObject();
                    json.WriteStartArray("Checks");
                    foreach (var check in checks)
                    {
                        json.WriteStartObject();
                        json.WriteString("Node", "fake-node");
                        json.WriteString("CheckID", check.Id);
                        json.WriteString("Name", check.Name);
                        json.WriteString("Status", check.Status);
                        json.WriteString("Notes", check.Notes);
                        json.WriteString("Output", check.Output);
                        json.WriteString("ServiceID", service.Id);
                        json.WriteString("ServiceName", service.Name);
                        json.WriteString("Type", check.Type);
                        json.WriteEndObject();
                    }

                    json.WriteEndArray();
                    json.WriteEndObject();
                }

                json.WriteEndArray();
            });
        }
    }

    /// <summary>The index a health query on <paramref name="name"/> answers with: the service's, or the last of any; at least 1.</summary>
    private long IndexOfLocked(string name) => Math.Max(1, _serviceIndex.TryGetValue(name, out var index) ? index : _index);

    /// <summary>A change to service <paramref name="name"/>: a new raft index, and the blocking queries wake to compare.</summary>
    private void BumpLocked(string name)
    {
        _index++;
        _serviceIndex[name] = _index;
        WakeBlockingLocked();
    }

    private void WakeBlockingLocked()
    {
        _indexChanged.TrySetResult();
        _indexChanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private string ServiceNameOfLocked(AgentCheck check) =>
        _services.Values.FirstOrDefault(s => s.Checks.Contains(check))?.Name ?? string.Empty;

    private static List<(string Id, string Name, string Status, string Notes, string Output, string Type)> ChecksOf(AgentService service)
    {
        var checks = service.Checks.Select(c => (c.Id, c.Name, c.Status, string.Empty, c.Output, c.Type)).ToList();
        if (service.MaintenanceReason is { } reason)
        {
            checks.Add(($"_service_maintenance:{service.Id}", "Service Maintenance Mode", Critical, reason, string.Empty, "maintenance"));
        }

        return checks;
    }

    private static void WriteService(Utf8JsonWriter json, AgentService service, string serviceField)
    {
        json.WriteString("ID", service.Id);
        json.WriteString(serviceField, service.Name);
        json.WriteStartArray("Tags");
        foreach (var tag in service.Tags)
        {
            json.WriteStringValue(tag);
        }

        json.WriteEndArray();
        json.WriteStartObject("Meta");
        foreach (var (key, value) in service.Meta)
        {
            json.WriteString(key, value);
        }

        json.WriteEndObject();
        json.WriteNumber("Port", service.Port);
        json.WriteString(AddressField, service.Address);
    }

    private static IResult UnknownService(string id) =>
        Text(404, $"Unknown service ID \"{id}\". Ensure that the service ID is passed, not the service name.");

    private static IResult Text(int statusCode, string text) => Results.Text(text, "text/plain; charset=utf-8", Encoding.UTF8, statusCode);

    private static IResult Json(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            write(json);
        }

        return Results.Bytes(stream.ToArray(), "application/json");
    }

    private static JsonElement? Property(JsonElement element, string name)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return property.Value;
            }
        }

        return null;
    }

    private static string? String(JsonElement element, string name) =>
        Property(element, name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;
}
