using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Kubernetes;

/// <summary>Why the pod could not be read.</summary>
internal enum PodReadFailure
{
    /// <summary>No API server to ask: not in a cluster, or the pod's name or namespace is unknown.</summary>
    NotInCluster,

    /// <summary>In a cluster, but no token file (<c>automountServiceAccountToken: false</c>).</summary>
    NoToken,

    /// <summary>No answer within the timeout, or the connection failed.</summary>
    Unreachable,

    /// <summary>401: the token was refused.</summary>
    Unauthorized,

    /// <summary>403: the service account may not <c>get</c> the pod.</summary>
    Forbidden,

    /// <summary>404: no such pod in the namespace (a wrong pod name or namespace).</summary>
    NotFound,

    /// <summary>Another status, or a body that is not a Pod.</summary>
    UnexpectedAnswer,
}

/// <summary>The outcome of one read: the pod, or why there is none (and the API's own words, when it answered).</summary>
internal sealed record PodReadResult(KubernetesPod? Pod, PodReadFailure? Failure, string? Detail)
{
    public static PodReadResult Failed(PodReadFailure failure, string? detail) => new(null, failure, detail);
}

/// <summary>
/// Reads this instance's own pod from the Kubernetes API with one GET (RBAC: <c>get</c> on <c>pods</c> in its
/// namespace). A failure is logged once, as one warning naming what is missing (the Role, the token, the pod name),
/// however many reads fail: a cluster without the permission must not fill the log, and the lifecycle then behaves
/// exactly as without the package. Safe to call from several threads.
/// </summary>
internal sealed class PodReader
{
    public const string HttpClientName = "GracefulLifecycle.Kubernetes";

    private const int MaxAnswerBytes = 4 * 1024 * 1024;

    private readonly IHttpClientFactory _clients;
    private readonly KubernetesOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<PodReader> _logger;
    private int _reported;
    private int _reads;

    public PodReader(
        IHttpClientFactory clients, IOptions<KubernetesOptions> options, KubernetesEnvironment environment, TimeProvider time, ILogger<PodReader> logger)
    {
        _clients = clients;
        _options = options.Value;
        _time = time;
        _logger = logger;
        Location = PodLocation.Find(_options, environment);
    }

    /// <summary>Gets where the pod is read from.</summary>
    public PodLocation Location { get; }

    /// <summary>Gets how many reads were attempted.</summary>
    public int Reads => Volatile.Read(ref _reads);

    /// <summary>Reads the pod once, bounded by <see cref="KubernetesOptions.RequestTimeout"/> and <paramref name="cancellationToken"/>.</summary>
    public async Task<PodReadResult> ReadAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reads);
        var result = await TryReadAsync(cancellationToken).ConfigureAwait(false);
        if (result.Failure is { } failure && Interlocked.Exchange(ref _reported, 1) == 0)
        {
            Report(failure, result.Detail);
        }

        return result;
    }

    private async Task<PodReadResult> TryReadAsync(CancellationToken cancellationToken)
    {
        var location = Location;
        if (location.Missing is { } missing)
        {
            return PodReadResult.Failed(PodReadFailure.NotInCluster, missing);
        }

        // Read for every call: the kubelet rotates a projected token (about hourly) while the pod runs.
        var token = KubernetesEnvironment.ReadFile(location.TokenPath);
        if (token is null && _options.ApiServer is null)
        {
            return PodReadResult.Failed(PodReadFailure.NoToken, location.TokenPath);
        }

        using var timeout = new CancellationTokenSource(_options.RequestTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, location.PodUrl);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            if (token is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            var client = _clients.CreateClient(HttpClientName);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, linked.Token).ConfigureAwait(false);
            var body = await response.Content.ReadAsByteArrayAsync(linked.Token).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                var status = StatusMessage(body) ?? $"{(int)response.StatusCode} {response.ReasonPhrase}";
                return PodReadResult.Failed(
                    response.StatusCode switch
                    {
                        HttpStatusCode.Unauthorized => PodReadFailure.Unauthorized,
                        HttpStatusCode.Forbidden => PodReadFailure.Forbidden,
                        HttpStatusCode.NotFound => PodReadFailure.NotFound,
                        _ => PodReadFailure.UnexpectedAnswer,
                    },
                    $"{(int)response.StatusCode}: {status}");
            }

            using var document = JsonDocument.Parse(body);
            var pod = KubernetesPod.Parse(document.RootElement);
            Log.PodRead(_logger, location.Pod, location.ApiServer!, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds, pod.IsDeleted);
            return new PodReadResult(pod, null, null);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return PodReadResult.Failed(PodReadFailure.Unreachable, $"no answer within {_options.RequestTimeout}");
        }
        catch (HttpRequestException e)
        {
            // The outer message only says a request failed; the inner one says how (refused, reset, name not resolved).
            return PodReadResult.Failed(PodReadFailure.Unreachable, $"{e.HttpRequestError}: {e.InnerException?.Message ?? e.Message}");
        }
        catch (JsonException e)
        {
            return PodReadResult.Failed(PodReadFailure.UnexpectedAnswer, "200 with a body that is not a Pod: " + e.Message);
        }
    }

    /// <summary>The message of a metav1.Status body (kind "Status"), which kube-apiserver sends with every error.</summary>
    private static string? StatusMessage(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            return KubernetesPod.Text(root, "kind") == "Status" ? KubernetesPod.Text(root, "message") : null;
        }
        catch (JsonException)
        {
            return body.Length == 0 ? null : System.Text.Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 300));
        }
    }

    private void Report(PodReadFailure failure, string? detail)
    {
        var location = Location;
        switch (failure)
        {
            case PodReadFailure.NotInCluster:
                Log.NotInCluster(_logger, detail ?? string.Empty);
                break;
            case PodReadFailure.NoToken:
                Log.NoToken(_logger, location.Pod, location.TokenPath);
                break;
            case PodReadFailure.Forbidden:
                Log.Forbidden(_logger, location.Pod, detail ?? string.Empty, location.Namespace ?? string.Empty);
                break;
            case PodReadFailure.Unauthorized:
                Log.Unauthorized(_logger, location.Pod, detail ?? string.Empty, location.TokenPath);
                break;
            case PodReadFailure.NotFound:
                Log.PodNotFound(_logger, location.Pod, detail ?? string.Empty);
                break;
            case PodReadFailure.Unreachable:
                Log.Unreachable(_logger, location.Pod, location.ApiServer!, detail ?? string.Empty);
                break;
            default:
                Log.UnexpectedAnswer(_logger, location.Pod, location.ApiServer!, detail ?? string.Empty);
                break;
        }
    }
}
