using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using GracefulLifecycle.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Consul;

/// <summary>
/// Registers the instance with the local Consul agent through its HTTP API: a service with an HTTP check on the
/// readiness endpoint, verified with <c>GET /v1/agent/service/{id}</c> and removed with
/// <c>PUT /v1/agent/service/deregister/{id}</c>. The lifecycle decides when each call is made.
/// </summary>
internal sealed class ConsulRegistry : IServiceRegistry
{
    /// <summary>The name of the <see cref="HttpClient"/> the adapter uses; configure it to add handlers or TLS settings.</summary>
    public const string HttpClientName = "GracefulLifecycle.Consul";

    private const string TokenHeader = "X-Consul-Token";
    private const int MaxBodyInMessage = 512;

    private readonly IHttpClientFactory _httpClients;
    private readonly IOptions<ConsulOptions> _options;
    private readonly IServiceProvider _services;
    private readonly InstanceAddress _instance;
    private readonly IHostEnvironment _environment;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private volatile string? _serviceId;

    // The lifecycle options are validated with every registry in hand (the shutdown plan needs their delays), so the
    // registry cannot depend on them, not even through IOptions<T> (the container sees the cycle): they are resolved
    // from the provider at registration, when validation is long over.
    public ConsulRegistry(
        IHttpClientFactory httpClients,
        IOptions<ConsulOptions> options,
        IServiceProvider services,
        InstanceAddress instance,
        IHostEnvironment environment,
        TimeProvider time,
        ILogger<ConsulRegistry> logger)
    {
        _httpClients = httpClients;
        _options = options;
        _services = services;
        _instance = instance;
        _environment = environment;
        _time = time;
        _logger = logger;
    }

    public string Name => "Consul";

    public TimeSpan VisibilityDelay => _options.Value.VisibilityDelay ?? TimeSpan.Zero;

    public TimeSpan PropagationDelay => _options.Value.ConsumerRefreshInterval + ConsulOptions.PropagationMargin;

    public TimeSpan RenewalInterval => _options.Value.RenewalInterval;

    /// <summary>Gets the ID of the service last sent to the agent, if any.</summary>
    public string? ServiceId => _serviceId;

    /// <summary>Resolves the service definition as it would be registered now.</summary>
    public ConsulServiceDefinition CreateDefinition() => ConsulServiceDefinition.Create(
        _options.Value,
        _environment.ApplicationName,
        _instance.ListeningPort(),
        InstanceAddress.HostName,
        InstanceAddress.IpAddress,
        _services.GetRequiredService<IOptions<GracefulLifecycleOptions>>().Value.ReadinessPath);

    public async Task RegisterAsync(CancellationToken cancellationToken)
    {
        var definition = CreateDefinition();
        _serviceId = definition.Id;
        Log.Registering(
            _logger, definition.Name, definition.Id, definition.Address, definition.Port, AgentAddress, definition.CheckUrl, definition.CheckInterval);

        using var content = new ByteArrayContent(definition.ToJson());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await SendAsync(HttpMethod.Put, "v1/agent/service/register?replace-existing-checks=true", content, cancellationToken)
            .ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> RenewAsync(CancellationToken cancellationToken)
    {
        if (_serviceId is not { } id)
        {
            return false;
        }

        using var response = await SendAsync(HttpMethod.Get, "v1/agent/service/" + Uri.EscapeDataString(id), null, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            Log.ServiceUnknown(_logger, id);
            return false;
        }

        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task DeregisterAsync(CancellationToken cancellationToken)
    {
        if (_serviceId is not { } id)
        {
            Log.DeregisterSkipped(_logger);
            return;
        }

        Log.Deregistering(_logger, id, AgentAddress);
        using var response = await SendAsync(HttpMethod.Put, "v1/agent/service/deregister/" + Uri.EscapeDataString(id), null, cancellationToken)
            .ConfigureAwait(false);

        // Consul answers 404 for an ID it does not know (older agents answered 200): either way it is gone.
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            Log.DeregisterUnknown(_logger, id);
            return;
        }

        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
    }

    private string AgentAddress => _options.Value.Address.TrimEnd('/');

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        var options = _options.Value;
        using var request = new HttpRequestMessage(method, new Uri(AgentAddress + "/" + path, UriKind.Absolute)) { Content = content };
        if (options.Token is { } token)
        {
            request.Headers.TryAddWithoutValidation(TokenHeader, token);
        }

        using var timeout = new CancellationTokenSource(options.RequestTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var client = _httpClients.CreateClient(HttpClientName);
        var started = _time.GetTimestamp();
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The Consul agent {AgentAddress} did not answer {method} /{PathOnly(path)} within {options.RequestTimeout}.");
        }
        catch (SocketException ex)
        {
            // SocketsHttpHandler lets this escape unwrapped when the agent resets a new connection at once.
            throw new HttpRequestException(
                HttpRequestError.ConnectionError,
                $"The Consul agent {AgentAddress} could not be reached for {method} /{PathOnly(path)}: {ex.SocketErrorCode} ({ex.Message})",
                ex);
        }

        Log.CallCompleted(_logger, method.Method, "/" + PathOnly(path), (int)response.StatusCode, (long)_time.GetElapsedTime(started).TotalMilliseconds);
        return response;
    }

    private async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (body.Length > MaxBodyInMessage)
        {
            body = body[..MaxBodyInMessage] + "…";
        }

        var method = response.RequestMessage?.Method.Method ?? "?";
        var path = response.RequestMessage?.RequestUri?.AbsolutePath ?? "?";
        Log.CallRefused(_logger, method, path, response.StatusCode, body);
        throw new HttpRequestException(
            $"The Consul agent {AgentAddress} answered {(int)response.StatusCode} {response.ReasonPhrase} to {method} {path}: {body.Trim()}",
            null,
            response.StatusCode);
    }

    private static string PathOnly(string path)
    {
        var query = path.IndexOf('?', StringComparison.Ordinal);
        return query < 0 ? path : path[..query];
    }
}
