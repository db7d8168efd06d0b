using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.WebhookRegistry;

/// <summary>
/// A registry that is a plain HTTP endpoint: <c>PUT instances/{id}</c> with the <see cref="ServiceInstance"/> as JSON,
/// <c>PUT instances/{id}/heartbeat</c> (404: the instance was lost) and <c>DELETE instances/{id}</c> (404: already gone).
/// It keeps the contract the lifecycle relies on: calls bounded on the injected <see cref="TimeProvider"/>, the
/// caller's cancellation passed through, an unreachable webhook reported as a connection error, and nothing sent for an
/// instance once it has left.
/// </summary>
internal sealed class WebhookRegistry : IServiceRegistry
{
    public const string HttpClientName = "GracefulLifecycle.WebhookRegistry";

    private readonly IHttpClientFactory _httpClients;
    private readonly IOptions<WebhookRegistryOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private volatile string? _instanceId;

    public WebhookRegistry(IHttpClientFactory httpClients, IOptions<WebhookRegistryOptions> options, TimeProvider time, ILogger<WebhookRegistry> logger)
    {
        _httpClients = httpClients;
        _options = options;
        _time = time;
        _logger = logger;
    }

    public string Name => "Webhook";

    public TimeSpan VisibilityDelay => TimeSpan.Zero;

    /// <summary>
    /// Gets the one term the webhook knows of: how long its consumers keep the list they read from it, named by its
    /// key so the startup log and a budget error say what to change.
    /// </summary>
    public PropagationDelay PropagationDelay => new(
    [
        new PropagationTerm(
            PropagationStage.ConsumerRefresh,
            _options.Value.PropagationDelay,
            WebhookRegistryOptions.SectionName + ":" + nameof(WebhookRegistryOptions.PropagationDelay)),
    ]);

    public TimeSpan RenewalInterval => _options.Value.RenewalInterval;

    public async Task RegisterAsync(ServiceInstance instance, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var port = instance.Port ?? throw new InvalidOperationException(
            $"The server listens on no http(s) port, so there is nothing to register with the webhook ({WebhookRegistryOptions.SectionName}).");
        var id = string.Create(CultureInfo.InvariantCulture, $"{instance.ApplicationName}-{instance.HostName}-{port}");
        _instanceId = id;
        var body = JsonContent.Create(new
        {
            id,
            app = instance.ApplicationName,
            host = instance.HostName,
            address = instance.IpAddress,
            port,
            scheme = instance.Scheme,
            readinessUrl = instance.ReadinessUrl?.ToString(),
        });
        using var response = await SendAsync(HttpMethod.Put, "instances/" + Uri.EscapeDataString(id), body, cancellationToken).ConfigureAwait(false);
        EnsureSuccess(response);
    }

    public async Task<bool> RenewAsync(CancellationToken cancellationToken)
    {
        if (_instanceId is not { } id)
        {
            return false;
        }

        using var response = await SendAsync(HttpMethod.Put, $"instances/{Uri.EscapeDataString(id)}/heartbeat", null, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            Log.InstanceUnknown(_logger, id);
            return false;
        }

        EnsureSuccess(response);
        return true;
    }

    public async Task DeregisterAsync(DeregistrationContext context, CancellationToken cancellationToken)
    {
        if (_instanceId is not { } id)
        {
            Log.NothingToDeregister(_logger);
            return;
        }

        // One endpoint: the token, which fires when the call's time (context.Budget) is up, bounds the call. An adapter
        // that tries several servers in turn would share context.Budget among them.
        using var response = await SendAsync(HttpMethod.Delete, "instances/" + Uri.EscapeDataString(id), null, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.NotFound)
        {
            EnsureSuccess(response);
        }

        // Gone either way: nothing more is sent for it.
        _instanceId = null;
    }

    private static void EnsureSuccess(HttpResponseMessage response)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException(
                $"The webhook refused {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.AbsolutePath} with {(int)response.StatusCode} {response.ReasonPhrase}.",
                null,
                response.StatusCode);
        }
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        var options = _options.Value;
        var baseUrl = options.Url.EndsWith('/') ? options.Url : options.Url + "/";
        using var request = new HttpRequestMessage(method, new Uri(new Uri(baseUrl), path)) { Content = content };
        using var timeout = new CancellationTokenSource(options.RequestTimeout, _time);
        using var call = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var started = _time.GetTimestamp();
        try
        {
            var response = await _httpClients.CreateClient(HttpClientName).SendAsync(request, call.Token).ConfigureAwait(false);
            Log.CallCompleted(_logger, method.Method, request.RequestUri!.AbsolutePath, (int)response.StatusCode, (long)_time.GetElapsedTime(started).TotalMilliseconds);
            return response;
        }
        catch (OperationCanceledException ex) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The webhook gave no answer to {method} {request.RequestUri!.AbsolutePath} within {options.RequestTimeout}.", ex);
        }
        catch (Exception ex) when (ex is SocketException or IOException or HttpRequestException { InnerException: IOException or SocketException } && !cancellationToken.IsCancellationRequested)
        {
            // A refused or reset connection, whether the handler wrapped it or not: the webhook could not be reached.
            throw new HttpRequestException(HttpRequestError.ConnectionError, $"The webhook could not be reached for {method} {request.RequestUri!.AbsolutePath}: {ex.Message}", ex);
        }
    }
}
