using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GracefulLifecycle.TestSupport.Kubernetes;

/// <summary>One request the fake API server received.</summary>
/// <param name="Method">The HTTP method.</param>
/// <param name="Path">The path, such as <c>/api/v1/namespaces/shop/pods/app-0</c>.</param>
/// <param name="Authorization">The <c>Authorization</c> header, if any.</param>
/// <param name="Accept">The <c>Accept</c> header, if any.</param>
/// <param name="StatusCode">The status it was answered with (0 when dropped or held until the caller gave up).</param>
public sealed record KubernetesApiRequest(string Method, string Path, string? Authorization, string? Accept, int StatusCode);

/// <summary>
/// The part of kube-apiserver the lifecycle uses, on real Kestrel at a loopback port: <c>GET
/// /api/v1/namespaces/{namespace}/pods/{name}</c> with a bearer token, answered with the <see cref="Pod"/> as the API
/// server serves it, or with the metav1.Status the API server sends for each failure. A test sets the pod, marks it
/// deleted, counts the reads, makes the API refuse (401, 403, 404), drop connections or hang.
/// </summary>
/// <remarks>
/// Failure bodies follow the API server's sources: every error is a metav1.Status (kind "Status", apiVersion "v1",
/// status "Failure", message, reason, details, code: staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/types.go),
/// built by staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go: NewUnauthorized (reason "Unauthorized", written
/// by the authentication filter, staging/src/k8s.io/apiserver/pkg/endpoints/filters/authentication.go, for a missing
/// or invalid token), NewForbidden (<c>pods "name" is forbidden: User "..." cannot get resource "pods" in API group ""
/// in the namespace "ns"</c>, the authorizer's message from
/// staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go) and NewNotFound
/// (<c>pods "name" not found</c>). Details carry the name and the kind ("pods").
/// </remarks>
public sealed class FakeKubernetesApiServer : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly List<KubernetesApiRequest> _requests = [];
    private readonly List<TaskCompletionSource> _holds = [];
    private readonly string _directory;
    private WebApplication? _app;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int? _failWith;
    private volatile bool _unavailable;

    private FakeKubernetesApiServer(FakePod pod, string token)
    {
        Pod = pod;
        Token = token;
        _directory = Directory.CreateTempSubdirectory("fake-kube-sa-").FullName;
        ServiceAccountDirectory = _directory;
        TokenPath = Path.Combine(_directory, "token");
        File.WriteAllText(TokenPath, token);
        File.WriteAllText(Path.Combine(_directory, "namespace"), pod.Namespace);
    }

    /// <summary>Gets the root URL, such as <c>http://127.0.0.1:40123/</c>.</summary>
    public Uri RootUrl { get; private set; } = null!;

    /// <summary>Gets the pod served. Change it through <see cref="UpdatePod"/> while the server runs.</summary>
    public FakePod Pod { get; }

    /// <summary>Gets the bearer token the server accepts: the service account's, also written to <see cref="TokenPath"/>.</summary>
    public string Token { get; private set; }

    /// <summary>Gets a service account directory as the kubelet mounts it: <c>token</c> and <c>namespace</c> (no <c>ca.crt</c>: plain http).</summary>
    public string ServiceAccountDirectory { get; }

    /// <summary>Gets the token file.</summary>
    public string TokenPath { get; }

    /// <summary>Gets or sets the user the 403 message names.</summary>
    public string User { get; set; } = "system:serviceaccount:shop:app";

    /// <summary>Gets or sets a value indicating whether every connection is dropped without an answer (not recorded).</summary>
    public bool Unavailable
    {
        get => _unavailable;
        set => _unavailable = value;
    }

    /// <summary>Gets every request received, in arrival order.</summary>
    public IReadOnlyList<KubernetesApiRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Gets how many requests were received (dropped ones excluded).</summary>
    public int RequestCount
    {
        get
        {
            lock (_gate)
            {
                return _requests.Count;
            }
        }
    }

    /// <summary>Gets the configuration that points the package at this server (<c>GracefulLifecycle:Kubernetes:*</c>).</summary>
    public IReadOnlyDictionary<string, string?> Configuration => new Dictionary<string, string?>
    {
        ["GracefulLifecycle:Kubernetes:ApiServer"] = RootUrl.ToString(),
        ["GracefulLifecycle:Kubernetes:Namespace"] = Pod.Namespace,
        ["GracefulLifecycle:Kubernetes:PodName"] = Pod.Name,
        ["GracefulLifecycle:Kubernetes:TokenPath"] = TokenPath,
    };

    /// <summary>Starts a server serving <paramref name="pod"/> (<see cref="FakePod.Matching"/> on port 8080 when null).</summary>
    public static async Task<FakeKubernetesApiServer> StartAsync(FakePod? pod = null, string token = "eyJhbGciOiJSUzI1NiJ9.fake-service-account-token")
    {
        var server = new FakeKubernetesApiServer(pod ?? FakePod.Matching(8080), token);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        var app = builder.Build();
        app.Run(server.AnswerAsync);
        await app.StartAsync();
        server._app = app;
        server.RootUrl = new Uri(app.Urls.First() + "/");
        return server;
    }

    /// <summary>Changes the pod served from the next read on.</summary>
    public void UpdatePod(Action<FakePod> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        lock (_gate)
        {
            change(Pod);
        }
    }

    /// <summary>
    /// Marks the pod deleted as the API server does when a deletion starts: <c>metadata.deletionTimestamp</c> (the
    /// deadline: now plus the grace) and <c>metadata.deletionGracePeriodSeconds</c>.
    /// </summary>
    public void MarkDeleted(long gracePeriodSeconds, DateTimeOffset? now = null) => UpdatePod(p =>
    {
        p.DeletionGracePeriodSeconds = gracePeriodSeconds;
        p.DeletionTimestamp = (now ?? DateTimeOffset.UtcNow).AddSeconds(gracePeriodSeconds);
    });

    /// <summary>Answers every pod read with <paramref name="statusCode"/> and its Status body (401, 403, 404, 500...), or normally again when null.</summary>
    public void FailWith(int? statusCode)
    {
        lock (_gate)
        {
            _failWith = statusCode;
        }
    }

    /// <summary>Rotates the token, as the kubelet does for a projected token: the new one is written to <see cref="TokenPath"/> and the old one refused.</summary>
    public void RotateToken(string token)
    {
        lock (_gate)
        {
            Token = token;
            File.WriteAllText(TokenPath, token);
        }
    }

    /// <summary>Holds every request from now on without answering until the handle is disposed: a hung API server.</summary>
    public IDisposable Hold()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            _holds.Add(release);
        }

        return new Release(this, release);
    }

    /// <summary>Waits until at least <paramref name="count"/> requests were answered or held; false when the deadline passes first.</summary>
    public async Task<bool> WaitForRequestsAsync(int count, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (_requests.Count >= count)
                {
                    return true;
                }

                changed = _changed.Task;
            }

            var left = timeout - deadline.Elapsed;
            if (left <= TimeSpan.Zero || await Task.WhenAny(changed, Task.Delay(left)) != changed)
            {
                return RequestCount >= count;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            lock (_gate)
            {
                foreach (var hold in _holds)
                {
                    hold.TrySetResult();
                }
            }

            await app.StopAsync();
            await app.DisposeAsync();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A temporary directory left behind is harmless.
        }
    }

    /// <summary>A metav1.Status as kube-apiserver writes it (apimachinery/pkg/api/errors/errors.go).</summary>
    public static JsonObject Status(int code, string reason, string message, string? name = null)
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
        };
        if (name is not null)
        {
            status["details"] = new JsonObject { ["name"] = name, ["kind"] = "pods" };
        }

        status["code"] = code;
        return status;
    }

    private async Task AnswerAsync(HttpContext context)
    {
        if (_unavailable)
        {
            context.Abort();
            return;
        }

        var request = context.Request;
        Task[] holds;
        int index;
        lock (_gate)
        {
            index = _requests.Count;
            _requests.Add(new KubernetesApiRequest(request.Method, request.Path.Value ?? string.Empty, request.Headers.Authorization, request.Headers.Accept, 0));
            holds = [.. _holds.Select(h => h.Task)];
            Notify();
        }

        try
        {
            await Task.WhenAll(holds).WaitAsync(context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        var (code, body) = Answer(request);
        lock (_gate)
        {
            _requests[index] = _requests[index] with { StatusCode = code };
            Notify();
        }

        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }

    private (int Code, JsonObject Body) Answer(HttpRequest request)
    {
        lock (_gate)
        {
            // The authentication filter runs first: no valid bearer token, 401 whatever the path.
            if (!string.Equals(request.Headers.Authorization, "Bearer " + Token, StringComparison.Ordinal) || _failWith == 401)
            {
                return (401, Status(401, "Unauthorized", "Unauthorized"));
            }

            var path = request.Path.Value ?? string.Empty;
            var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
            var isPodPath = segments is ["api", "v1", "namespaces", _, "pods", _];
            var name = isPodPath ? Uri.UnescapeDataString(segments[5]) : string.Empty;
            var ns = isPodPath ? Uri.UnescapeDataString(segments[3]) : string.Empty;
            if (_failWith == 403)
            {
                return (403, Status(403, "Forbidden", $"pods \"{name}\" is forbidden: User \"{User}\" cannot get resource \"pods\" in API group \"\" in the namespace \"{ns}\"", name));
            }

            if (!isPodPath || !HttpMethods.IsGet(request.Method))
            {
                return (404, Status(404, "NotFound", "the server could not find the requested resource"));
            }

            if (_failWith == 404 || name != Pod.Name || ns != Pod.Namespace)
            {
                return (404, Status(404, "NotFound", $"pods \"{name}\" not found", name));
            }

            if (_failWith is { } other)
            {
                return (other, Status(other, other == 500 ? "InternalError" : "Unknown", $"an error on the server (\"injected {other}\") has prevented the request from succeeding"));
            }

            return (200, Pod.ToJson());
        }
    }

    private void Notify()
    {
        _changed.TrySetResult();
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class Release(FakeKubernetesApiServer server, TaskCompletionSource release) : IDisposable
    {
        public void Dispose()
        {
            lock (server._gate)
            {
                server._holds.Remove(release);
            }

            release.TrySetResult();
        }
    }
}
