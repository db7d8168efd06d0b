using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace GracefulLifecycle.TestSupport.Consul;

/// <summary>
/// An in-repo fake of a Consul agent's HTTP API. It follows the published Consul agent API (the hashicorp/consul
/// agent endpoints and the "agent/service" and "health" API documentation) because a real Consul agent cannot be
/// installed on the test machines. It runs on real Kestrel, bound to 127.0.0.1 on a port the OS picks.
/// </summary>
/// <remarks>
/// <para>The published behaviour it reproduces:</para>
/// <list type="bullet">
/// <item><c>PUT /v1/agent/service/register</c>: 200 with an empty body; 400 <c>Request decode failed: …</c> when the
/// body is not JSON, <c>Missing service name</c> without <c>Name</c>, <c>Invalid check: Interval must be &gt; 0 …</c>
/// for an HTTP check without an interval. <c>ID</c> defaults to the name. A
/// <c>DeregisterCriticalServiceAfter</c> below one minute is raised to one minute. A new check starts critical.
/// Field names are matched case-insensitively, as Consul's decoder does.</item>
/// <item><c>PUT /v1/agent/service/deregister/{id}</c>: 200; 404 <c>Unknown service ID "…". Ensure that the service
/// ID is passed, not the service name.</c> for an ID it does not know (Consul since 2021; older agents answered 200).</item>
/// <item><c>GET /v1/agent/service/{id}</c>: 200 with the service as JSON; 404 when unknown.</item>
/// <item><c>PUT /v1/agent/service/maintenance/{id}?enable=true&amp;reason=…</c>: 200, adds a critical
/// <c>_service_maintenance:{id}</c> check (idempotent); <c>enable=false</c> removes it; 400 without or with an
/// invalid <c>enable</c>; 404 when unknown.</item>
/// <item><c>GET /v1/health/service/{name}[?passing]</c>: <c>[{"Node":…,"Service":{…},"Checks":[…]}]</c>, with
/// <c>passing</c> only the entries whose checks all pass (the node's serfHealth check is left out).</item>
/// <item>ACLs, when the fake is given a token: a call without <c>X-Consul-Token</c> (or <c>?token=</c>) gets 403
/// <c>Permission denied</c>, a call with an unknown token 403 <c>ACL not found</c>. The fake checks the token
/// before the body (Consul validates the body first).</item>
/// </list>
/// <para>Health checks run only when a test calls <see cref="RunChecksAsync"/>: each HTTP check is called once
/// with its timeout and without keep-alive, as Consul does; 2xx is passing, 429 warning, anything else or no answer
/// critical. <c>GET /_fake/status/{code}</c> answers that status code, a check target for contract tests; it is not
/// part of Consul's API.</para>
/// <para>The controls (hold, fail, forget a service, unavailable, stop) are the base's, see
/// <see cref="FakeRegistryServer{TCall}"/>; only agent calls (<c>/v1/…</c>) are recorded.</para>
/// </remarks>
public sealed class FakeConsulAgent : FakeRegistryServer<AgentCall>
{
    private const string TokenHeader = "X-Consul-Token";
    private const string AddressField = "Address";
    private static readonly TimeSpan MinimumDeregisterCriticalServiceAfter = TimeSpan.FromMinutes(1);

    private readonly Dictionary<string, AgentService> _services = new(StringComparer.Ordinal);
    private readonly HttpClient _checks = new(new SocketsHttpHandler { UseProxy = false });
    private readonly string? _aclToken;

    private FakeConsulAgent(string? aclToken)
    {
        _aclToken = aclToken;
    }

    /// <summary>
    /// Gets the agent's base address, such as <c>http://127.0.0.1:40123/</c>: <see cref="FakeRegistryServer{TCall}.RootUrl"/> under
    /// the name of the option a client sets to it (<c>ConsulOptions.Address</c>).
    /// </summary>
    public Uri Address { get; private set; } = null!;

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

    /// <summary>Starts the agent on a port the OS picks.</summary>
    /// <param name="aclToken">When set, every call must carry this token.</param>
    public static async Task<FakeConsulAgent> StartAsync(string? aclToken = null)
    {
        var agent = new FakeConsulAgent(aclToken);
        await agent.StartServerAsync();
        agent.Address = agent.RootUrl;
        return agent;
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
            return _services.Remove(id);
        }
    }

    /// <summary>Runs every HTTP check once, now, and returns each service's resulting status by service ID.</summary>
    public async Task<IReadOnlyDictionary<string, string>> RunChecksAsync()
    {
        AgentService[] services;
        lock (Gate)
        {
            services = _services.Values.Where(s => s.CheckHttp is not null).ToArray();
        }

        var results = await Task.WhenAll(services.Select(async service =>
        {
            var (status, output) = await CheckAsync(service);
            lock (Gate)
            {
                service.CheckStatus = status;
                service.CheckOutput = output;
            }

            return (service.Id, status);
        }));
        return results.ToDictionary(r => r.Id, r => r.status, StringComparer.Ordinal);
    }

    protected override ValueTask OnDisposedAsync()
    {
        _checks.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<(string Status, string Output)> CheckAsync(AgentService service)
    {
        using var timeout = new CancellationTokenSource(service.CheckTimeout);
        using var request = new HttpRequestMessage(new HttpMethod(service.CheckMethod), service.CheckHttp);
        request.Headers.ConnectionClose = true;
        request.Headers.UserAgent.ParseAdd("Consul Health Check");
        try
        {
            using var response = await _checks.SendAsync(request, timeout.Token);
            var code = (int)response.StatusCode;
            var output = $"HTTP {request.Method} {service.CheckHttp}: {code} {response.ReasonPhrase}";
            return code switch
            {
                >= 200 and < 300 => ("passing", output),
                429 => ("warning", output),
                _ => ("critical", output),
            };
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or SocketException)
        {
            return ("critical", $"HTTP {request.Method} {service.CheckHttp}: {ex.Message}");
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

    private static string? TokenOf(HttpContext context) =>
        context.Request.Headers.TryGetValue(TokenHeader, out var header) ? header.ToString()
        : context.Request.Query.TryGetValue("token", out var query) ? query.ToString()
        : null;

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

        string? checkHttp = null;
        var checkMethod = "GET";
        var interval = TimeSpan.Zero;
        var checkTimeout = TimeSpan.FromSeconds(10);
        var deregisterAfter = TimeSpan.Zero;
        if (Property(root, "Check") is { ValueKind: JsonValueKind.Object } check)
        {
            checkHttp = String(check, "HTTP");
            checkMethod = String(check, "Method") is { Length: > 0 } method ? method : "GET";
            foreach (var (field, apply) in new (string, Action<TimeSpan>)[]
            {
                ("Interval", v => interval = v),
                ("Timeout", v => checkTimeout = v),
                ("DeregisterCriticalServiceAfter", v => deregisterAfter = v),
            })
            {
                if (Property(check, field) is { } raw)
                {
                    if (!GoDurationParser.TryParse(raw, out var value))
                    {
                        return Text(400, $"Request decode failed: time: invalid duration \"{raw}\"");
                    }

                    apply(value);
                }
            }

            var hasTtl = Property(check, "TTL") is { } ttl && GoDurationParser.TryParse(ttl, out var ttlValue) && ttlValue > TimeSpan.Zero;
            if (checkHttp is not null && interval <= TimeSpan.Zero)
            {
                return Text(400, "Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks");
            }

            if (checkHttp is null && !hasTtl)
            {
                return Text(400, "Invalid check: TTL must be > 0 for TTL checks");
            }

            if (deregisterAfter > TimeSpan.Zero && deregisterAfter < MinimumDeregisterCriticalServiceAfter)
            {
                deregisterAfter = MinimumDeregisterCriticalServiceAfter;
            }
        }

        var service = new AgentService
        {
            Id = String(root, "ID") is { Length: > 0 } id ? id : name,
            Name = name,
            Address = address,
            Port = Property(root, "Port") is { ValueKind: JsonValueKind.Number } port ? port.GetInt32() : 0,
            Tags = Property(root, "Tags") is { ValueKind: JsonValueKind.Array } tags ? tags.EnumerateArray().Select(t => t.GetString()!).ToArray() : [],
            Meta = Property(root, "Meta") is { ValueKind: JsonValueKind.Object } meta
                ? meta.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal)
                : new Dictionary<string, string>(StringComparer.Ordinal),
            CheckHttp = checkHttp,
            CheckMethod = checkMethod,
            CheckInterval = interval,
            CheckTimeout = checkTimeout,
            DeregisterCriticalServiceAfter = deregisterAfter,
        };

        lock (Gate)
        {
            _services[service.Id] = service;
        }

        return Results.Ok();
    }

    private IResult Deregister(string id)
    {
        lock (Gate)
        {
            return _services.Remove(id) ? Results.Ok() : UnknownService(id);
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
            service.MaintenanceReason = !enable
                ? null
                : reason.Length > 0 ? reason : "Maintenance mode is enabled for this service, but no reason was provided. This is a default message.";
        }

        return Results.Ok();
    }

    private IResult Health(HttpContext context, string name)
    {
        var passingOnly = context.Request.Query.TryGetValue("passing", out var passing) &&
            (string.IsNullOrEmpty(passing.ToString()) || !bool.TryParse(passing.ToString(), out var value) || value);
        lock (Gate)
        {
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

    private static List<(string Id, string Name, string Status, string Notes, string Output, string Type)> ChecksOf(AgentService service)
    {
        var checks = new List<(string, string, string, string, string, string)>();
        if (service.CheckHttp is not null)
        {
            checks.Add(($"service:{service.Id}", $"Service '{service.Name}' check", service.CheckStatus, string.Empty, service.CheckOutput, "http"));
        }

        if (service.MaintenanceReason is { } reason)
        {
            checks.Add(($"_service_maintenance:{service.Id}", "Service Maintenance Mode", "critical", reason, string.Empty, "maintenance"));
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
