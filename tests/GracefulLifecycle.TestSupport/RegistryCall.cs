namespace GracefulLifecycle.TestSupport;

/// <summary>
/// One HTTP call a <see cref="FakeRegistryServer{TCall}"/> received, recorded on arrival. The fakes derive their own
/// record from it to add what only their registry has (Eureka's server time, Consul's ACL token).
/// </summary>
public abstract class RegistryCall
{
    private int _statusCode;

    protected RegistryCall(int sequence, string method, string path, string query, string body, long arrivedAt)
    {
        Sequence = sequence;
        Method = method;
        Path = path;
        Query = query;
        Body = body;
        ArrivedAt = arrivedAt;
    }

    /// <summary>Gets the position of the call among every call the server recorded, from 0: its index in <c>Calls</c>.</summary>
    public int Sequence { get; }

    public string Method { get; }

    /// <summary>Gets the request path as the fake names it (see the fake's documentation).</summary>
    public string Path { get; }

    /// <summary>Gets the query string, with its leading <c>?</c>, or empty.</summary>
    public string Query { get; }

    public string PathAndQuery => Path + Query;

    /// <summary>Gets the request body, or empty when there was none.</summary>
    public string Body { get; }

    /// <summary>Gets the <see cref="System.Diagnostics.Stopwatch"/> timestamp of the arrival.</summary>
    public long ArrivedAt { get; }

    /// <summary>Gets the status code answered, 0 while the call is in progress, or -1 when it was dropped unanswered.</summary>
    public int StatusCode
    {
        get => Volatile.Read(ref _statusCode);
        internal set => Volatile.Write(ref _statusCode, value);
    }

    /// <summary>Gets a value indicating whether the call has been answered (or dropped).</summary>
    public bool IsAnswered => StatusCode != 0;

    public bool Is(string method, string pathPrefix) =>
        Method == method && Path.StartsWith(pathPrefix, StringComparison.Ordinal);

    public override string ToString() => $"{Method} {PathAndQuery} -> {StatusCode}";
}
