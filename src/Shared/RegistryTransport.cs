using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace GracefulLifecycle.Transport;

/// <summary>What a registry server answered: the status, the body (at most <see cref="RegistryTransport.MaxAnswerBytes"/>) and who answered.</summary>
internal sealed record RegistryAnswer(HttpStatusCode Status, string? ReasonPhrase, string Body, Uri Server, HttpMethod Method, string Path)
{
    public bool IsSuccess => (int)Status is >= 200 and <= 299;

    /// <summary>Gets the answer's headers (Consul's <c>X-Consul-Index</c>, for one).</summary>
    public HttpResponseHeaders? Headers { get; init; }
}

/// <summary>The adapter's log lines for the transport, so they carry the adapter's own event ids.</summary>
internal sealed class RegistryTransportLog
{
    /// <summary>
    /// (server, method, path, reason, next server): a server failed and the next one is tried. Warning. Only called
    /// with more than one server: an adapter that accepts one server alone (Consul's one agent) leaves it unset.
    /// </summary>
    public Action<string, string, string, string, string>? FailingOver { get; init; }

    /// <summary>(server): a server other than the last one answered; calls start there from now on. Information.
    /// Only called with more than one server, like <see cref="FailingOver"/>.</summary>
    public Action<string>? ServerSwitched { get; init; }

    /// <summary>(method, path, status, elapsed ms): a call was answered. Debug.</summary>
    public required Action<string, string, int, long> CallCompleted { get; init; }
}

/// <summary>
/// The HTTP transport the registry adapters share (compiled into each; no public surface). One failover loop: each
/// call starts at the server that answered last and moves on, in order, on a connection error, a timeout, a 3xx
/// (redirects are not followed), a 5xx, an answer that cannot be read, or (with <see cref="CredentialsPerServer"/>)
/// a 401 or 403; any other answer is the caller's to judge.
/// Each attempt is bounded by a timeout on the <see cref="TimeProvider"/>; answers are read up to
/// <see cref="MaxAnswerBytes"/>; error messages quote at most <see cref="MaxExcerptChars"/> of a body and never a
/// URL's credentials.
/// </summary>
/// <remarks>
/// Errors come in the same categories from every adapter: the caller's cancellation is an
/// <see cref="OperationCanceledException"/>; no answer in time a <see cref="TimeoutException"/>; a server that cannot be
/// reached an <see cref="HttpRequestException"/> with <see cref="HttpRequestError.ConnectionError"/>; an unreadable
/// answer one with <see cref="HttpRequestError.InvalidResponse"/>; a refusal one with its status code. When every
/// server failed, each one's failure is named, and the category is kept when they all failed alike.
/// </remarks>
internal sealed class RegistryTransport
{
    /// <summary>The most of an answer read: registry answers to these calls are small, a larger one is a broken server.</summary>
    public const int MaxAnswerBytes = 64 * 1024;

    /// <summary>The most of an answer quoted in an exception message.</summary>
    public const int MaxExcerptChars = 512;

    private static readonly MediaTypeHeaderValue Json = new("application/json");

    private readonly string _serverKind;
    private readonly Func<HttpClient> _client;
    private readonly IReadOnlyList<Uri> _servers;
    private readonly TimeProvider _time;
    private readonly Func<TimeSpan> _requestTimeout;
    private readonly RegistryTransportLog _log;
    private readonly Action<HttpRequestMessage>? _prepare;
    private int _preferred;

    /// <param name="serverKind">What a server is called in messages: "Eureka server", "Consul agent", "etcd endpoint".</param>
    /// <param name="client">A client per call (from the factory, so DNS changes are picked up).</param>
    /// <param name="servers">The servers, in failover order.</param>
    /// <param name="time">The clock of the per-attempt timeouts.</param>
    /// <param name="requestTimeout">The timeout of one attempt, read per call.</param>
    /// <param name="log">The adapter's log lines.</param>
    /// <param name="prepare">Adds the adapter's headers to each request.</param>
    public RegistryTransport(
        string serverKind,
        Func<HttpClient> client,
        IReadOnlyList<Uri> servers,
        TimeProvider time,
        Func<TimeSpan> requestTimeout,
        RegistryTransportLog log,
        Action<HttpRequestMessage>? prepare = null)
    {
        _serverKind = serverKind;
        _client = client;
        _servers = servers;
        _time = time;
        _requestTimeout = requestTimeout;
        _log = log;
        _prepare = prepare;
    }

    public IReadOnlyList<Uri> Servers => _servers;

    /// <summary>
    /// Gets a value indicating whether each server has its own credentials (in its URL), so a 401 or 403 (this
    /// server refused them) moves on to the next server, as Eureka's own client does
    /// (Netflix/eureka <c>ServerStatusEvaluators.legacyEvaluator</c>), instead of being the caller's to judge.
    /// </summary>
    public bool CredentialsPerServer { get; init; }

    /// <summary>
    /// Gets the most of an answer read; <see cref="MaxAnswerBytes"/> unless set. The endpoint providers read whole
    /// service lists, which grow with the number of instances, and set more.
    /// </summary>
    public int AnswerLimit { get; init; } = MaxAnswerBytes;

    /// <summary>Sends the request and returns the answer of the first server that gave a usable one.</summary>
    public Task<RegistryAnswer> SendAsync(
        HttpMethod method, string path, byte[]? jsonBody, CancellationToken cancellationToken, TimeSpan? attemptTimeout = null) =>
        SendAsync(method, path, jsonBody, static answer => answer, cancellationToken, attemptTimeout);

    /// <summary>
    /// Sends the request; <paramref name="read"/> turns an answer into the result, and an answer it cannot read
    /// (<see cref="JsonException"/>, <see cref="InvalidDataException"/>) counts as a failed server, like a 5xx.
    /// </summary>
    public async Task<T> SendAsync<T>(
        HttpMethod method, string path, byte[]? jsonBody, Func<RegistryAnswer, T> read, CancellationToken cancellationToken, TimeSpan? attemptTimeout = null)
    {
        var servers = _servers;
        if (servers.Count == 0)
        {
            throw new InvalidOperationException($"No {_serverKind} is configured.");
        }

        var timeout = attemptTimeout ?? _requestTimeout();
        var start = Volatile.Read(ref _preferred) % servers.Count;
        var failures = new List<Exception>();
        for (var attempt = 0; attempt < servers.Count; attempt++)
        {
            var index = (start + attempt) % servers.Count;
            var server = servers[index];
            var name = RegistryUrls.Redact(server);
            var call = $"{method} {new Uri(server, path).AbsolutePath}";
            string reason;
            using (var request = new HttpRequestMessage(method, new Uri(server, path)))
            using (var callTimeout = new CancellationTokenSource(timeout, _time))
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, callTimeout.Token))
            {
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
                if (jsonBody is not null)
                {
                    request.Content = new ByteArrayContent(jsonBody) { Headers = { ContentType = Json } };
                }

                _prepare?.Invoke(request);
                var started = _time.GetTimestamp();
                try
                {
                    using var response = await _client().SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
                    var body = await ReadCappedAsync(response.Content, AnswerLimit, linked.Token).ConfigureAwait(false);
                    _log.CallCompleted(method.Method, PathOnly(path), (int)response.StatusCode, (long)_time.GetElapsedTime(started).TotalMilliseconds);
                    var answer = new RegistryAnswer(response.StatusCode, response.ReasonPhrase, body, server, method, path) { Headers = response.Headers };
                    if ((int)response.StatusCode is >= 500 or (>= 300 and < 400) || IsCredentialsRefused(response.StatusCode))
                    {
                        reason = $"{(int)response.StatusCode} {response.ReasonPhrase}";
                        failures.Add(new HttpRequestException(
                            $"{_serverKind} {name} answered {call} with {reason}{CredentialsHint(server, response.StatusCode)}: {Excerpt(body)}", null, response.StatusCode));
                    }
                    else
                    {
                        var result = read(answer);
                        if (index != start)
                        {
                            Volatile.Write(ref _preferred, index);
                            _log.ServerSwitched?.Invoke(name);
                        }

                        return result;
                    }
                }
                catch (OperationCanceledException ex) when (callTimeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    reason = $"no answer within {timeout}";
                    failures.Add(new TimeoutException($"{_serverKind} {name} gave no answer to {call} within {timeout}.", ex));
                }
                catch (Exception ex) when (ex is HttpRequestException or SocketException or IOException && !cancellationToken.IsCancellationRequested)
                {
                    // SocketsHttpHandler lets a bare SocketException escape when the server resets a new connection at
                    // once (a server going down with connections still queued): a failure to reach it all the same.
                    // A connection the server reset (its kernel's RST) is a failure to reach it, whatever stage the
                    // handler was at when it noticed: every adapter reports it as a connection error.
                    var error = ex is HttpRequestException http && !HasSocketError(http) ? http.HttpRequestError : HttpRequestError.ConnectionError;
                    reason = ex is SocketException socket ? $"{socket.SocketErrorCode} ({socket.Message})" : ex.Message;
                    failures.Add(new HttpRequestException(
                        error, $"{_serverKind} {name} could not be reached for {call}: {reason}", ex, (ex as HttpRequestException)?.StatusCode));
                }
                catch (Exception ex) when (ex is JsonException or InvalidDataException && !cancellationToken.IsCancellationRequested)
                {
                    reason = ex.Message;
                    failures.Add(new HttpRequestException(
                        HttpRequestError.InvalidResponse, $"{_serverKind} {name} answered {call} with an unreadable answer: {ex.Message}", ex));
                }
            }

            if (attempt + 1 < servers.Count)
            {
                _log.FailingOver?.Invoke(name, method.Method, PathOnly(path), reason, RegistryUrls.Redact(servers[(index + 1) % servers.Count]));
            }
        }

        throw Combine(failures, $"{method} {PathOnly(path)}");
    }

    /// <summary>The error for an answer the caller does not accept: the status and an excerpt of the body.</summary>
    public HttpRequestException Refused(RegistryAnswer answer)
    {
        var body = answer.Body.Trim();
        return new HttpRequestException(
            $"{_serverKind} {RegistryUrls.Redact(answer.Server)} refused {answer.Method} {new Uri(answer.Server, answer.Path).AbsolutePath} with {(int)answer.Status} {answer.ReasonPhrase}: " +
            (body.Length == 0 ? "(no body)" : Excerpt(body)),
            inner: null,
            answer.Status);
    }

    private static string CredentialsHint(Uri server, HttpStatusCode status) =>
        status != HttpStatusCode.Unauthorized ? string.Empty
        : string.IsNullOrEmpty(server.UserInfo) ? " (it wants credentials and its URL has none: write them as http://user:password@host/…)"
        : " (it refused the credentials in its URL)";

    private bool IsCredentialsRefused(HttpStatusCode status) =>
        CredentialsPerServer && status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden;

    /// <summary>At most <see cref="MaxExcerptChars"/> of an answer, for a message.</summary>
    public static string Excerpt(string text) => text.Length <= MaxExcerptChars ? text : string.Concat(text.AsSpan(0, MaxExcerptChars), "…");

    private Exception Combine(List<Exception> failures, string call)
    {
        if (failures.Count == 1)
        {
            return failures[0];
        }

        var message = $"None of the {failures.Count} {_serverKind}s answered {call}: {string.Join("; ", failures.Select(f => f.Message))}";
        var all = new AggregateException(failures);
        if (failures.TrueForAll(f => f is TimeoutException))
        {
            return new TimeoutException(message, all);
        }

        var errors = failures.Select(f => (f as HttpRequestException)?.HttpRequestError).Distinct().ToList();
        return errors is [{ } same] ? new HttpRequestException(same, message, all) : new HttpRequestException(message, all);
    }

    private static bool HasSocketError(Exception ex)
    {
        for (var current = ex.InnerException; current is not null; current = current.InnerException)
        {
            if (current is SocketException)
            {
                return true;
            }
        }

        return false;
    }

    private static string PathOnly(string path)
    {
        var query = path.IndexOf('?', StringComparison.Ordinal);
        return "/" + (query < 0 ? path : path[..query]);
    }

    private static async Task<string> ReadCappedAsync(HttpContent content, int limit, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > limit)
        {
            throw new InvalidDataException($"The answer of {content.Headers.ContentLength} bytes is over the {limit}-byte limit.");
        }

        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            // Grown as the answer comes: a large limit costs nothing for the small answers most calls get.
            using var body = new MemoryStream();
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (body.Length + read > limit)
                {
                    throw new InvalidDataException($"The answer is over the {limit}-byte limit.");
                }

                body.Write(buffer, 0, read);
            }

            return Encoding.UTF8.GetString(body.GetBuffer(), 0, (int)body.Length);
        }
    }
}
