namespace GracefulLifecycle.TestSupport.Eureka;

/// <summary>One request the fake Eureka server received, recorded when it arrived.</summary>
public sealed class EurekaCall
{
    private int _status;

    public EurekaCall(int sequence, string method, string path, string query, DateTimeOffset time, long wallTimestamp, string? body)
    {
        Sequence = sequence;
        Method = method;
        Path = path;
        Query = query;
        Time = time;
        WallTimestamp = wallTimestamp;
        Body = body;
    }

    /// <summary>Gets the position of the call among every call the server received, from 0.</summary>
    public int Sequence { get; }

    public string Method { get; }

    /// <summary>Gets the path below the base path, for example <c>apps/ORDERS/host:orders:8080</c>.</summary>
    public string Path { get; }

    /// <summary>Gets the query string, with its leading '?', or empty.</summary>
    public string Query { get; }

    public string PathAndQuery => Path + Query;

    /// <summary>Gets the server's (fake) time when the call arrived.</summary>
    public DateTimeOffset Time { get; }

    /// <summary>Gets the <see cref="System.Diagnostics.Stopwatch"/> timestamp when the call arrived.</summary>
    public long WallTimestamp { get; }

    public string? Body { get; }

    /// <summary>Gets the status code answered, or 0 while the call is in progress.</summary>
    public int Status
    {
        get => Volatile.Read(ref _status);
        internal set => Volatile.Write(ref _status, value);
    }

    public bool Is(string method, string pathPrefix) =>
        Method == method && Path.StartsWith(pathPrefix, StringComparison.Ordinal);

    public override string ToString() => $"{Method} {PathAndQuery} -> {Status}";
}
