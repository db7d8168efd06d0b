using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace GracefulLifecycle.TestSupport;

/// <summary>
/// A real etcd server (Debian's <c>etcd-server</c> package) on free loopback ports with its data in a temporary
/// folder, for tests that check registration through etcd itself and for the rollout drill (source-shared, eng/shared).
/// Nothing outlives the process that started it: the server runs on the <see cref="ChildProcessLeash"/> (killed by the
/// kernel when its starter dies), disposal kills it and deletes its data, and a watchdog shell deletes the data when
/// the starter dies without disposing (a test host killed with SIGKILL). The data folder carries the starter's pid, so
/// the next server started deletes any folder whose starter is gone that the watchdog could not (killed with it).
/// </summary>
public sealed class EtcdServer : IAsyncDisposable
{
    private readonly string _dataDirectory = DataDirectory();
    private readonly int _clientPort = FreePort();
    private readonly int _peerPort = FreePort();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private Process? _process;
    private Process? _watchdog;

    public Uri ClientUrl => new($"http://127.0.0.1:{_clientPort}/");

    /// <summary>Gets the id of the running server process, for fault drills that pause it (SIGSTOP).</summary>
    public int ProcessId => _process is { HasExited: false } process ? process.Id : throw new InvalidOperationException("etcd is not running.");

    public static async Task<EtcdServer> StartAsync()
    {
        var server = new EtcdServer();
        try
        {
            await server.RestartAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts (or starts again, keeping its data) the server and waits until it reports healthy.</summary>
    public async Task RestartAsync()
    {
        var binary = FindBinary() ?? throw new InvalidOperationException(
            "etcd was not found on PATH or in /usr/bin: install Debian's etcd-server package (apt-get install -y etcd-server).");
        _watchdog ??= StartWatchdog(_dataDirectory);
        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "--name", "test",
            "--data-dir", _dataDirectory,
            "--listen-client-urls", $"http://127.0.0.1:{_clientPort}",
            "--advertise-client-urls", $"http://127.0.0.1:{_clientPort}",
            "--listen-peer-urls", $"http://127.0.0.1:{_peerPort}",
            "--initial-advertise-peer-urls", $"http://127.0.0.1:{_peerPort}",
            "--initial-cluster", $"test=http://127.0.0.1:{_peerPort}",
        })
        {
            start.ArgumentList.Add(argument);
        }

        _process = ChildProcessLeash.Start(start);
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var response = await _http.GetAsync(new Uri(ClientUrl, "health"));
                if (response.IsSuccessStatusCode && (await response.Content.ReadAsStringAsync()).Contains("true", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or SocketException)
            {
                // Not listening, or not answering, yet.
            }

            if (deadline.Elapsed > TimeSpan.FromSeconds(30) || _process.HasExited)
            {
                // StartAsync, or the caller's dispose after a restart, stops the process.
                throw new InvalidOperationException($"etcd did not become healthy within 30 s (exited: {_process.HasExited}).");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Kills the server, as a crash or a network partition would look to its clients.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    /// <summary>Reads every key under <paramref name="prefix"/> with a range query, as a consumer would.</summary>
    public async Task<IReadOnlyList<EtcdKeyValue>> RangeAsync(string prefix)
    {
        var end = Encoding.UTF8.GetBytes(prefix);
        end[^1]++;
        var body = JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["key"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(prefix)),
            ["range_end"] = Convert.ToBase64String(end),
        });
        using var response = await _http.PostAsync(new Uri(ClientUrl, "v3/kv/range"), new StringContent(body, Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        if (!json.RootElement.TryGetProperty("kvs", out var kvs))
        {
            return [];
        }

        return kvs.EnumerateArray().Select(kv => new EtcdKeyValue(
            Encoding.UTF8.GetString(Convert.FromBase64String(kv.GetProperty("key").GetString()!)),
            Encoding.UTF8.GetString(Convert.FromBase64String(kv.GetProperty("value").GetString()!)),
            kv.TryGetProperty("lease", out var lease) ? long.Parse(lease.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : 0)).ToList();
    }

    /// <summary>Grants a lease, as another client would.</summary>
    public async Task<long> GrantAsync(TimeSpan ttl)
    {
        using var json = await PostAsync("v3/lease/grant", $$"""{"TTL":{{(long)ttl.TotalSeconds}}}""");
        return long.Parse(json.RootElement.GetProperty("ID").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Writes a key with a plain put (no transaction), under <paramref name="leaseId"/> or none (0), as another client would.</summary>
    public async Task PutAsync(string key, string value, long leaseId = 0)
    {
        var body = JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["key"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(key)),
            ["value"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(value)),
            ["lease"] = leaseId.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        (await PostAsync("v3/kv/put", body)).Dispose();
    }

    /// <summary>Deletes a key behind its owner's back, as <c>etcdctl del</c> would.</summary>
    public async Task DeleteAsync(string key) =>
        (await PostAsync("v3/kv/deleterange", $$"""{"key":"{{Convert.ToBase64String(Encoding.UTF8.GetBytes(key))}}"}""")).Dispose();

    /// <summary>Revokes a lease behind the client's back, as an expiry during a partition would.</summary>
    public async Task RevokeAsync(long leaseId)
    {
        using var response = await _http.PostAsync(
            new Uri(ClientUrl, "v3/lease/revoke"),
            new StringContent($$"""{"ID":"{{leaseId}}"}""", Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
    }

    private async Task<JsonDocument> PostAsync(string path, string body)
    {
        using var response = await _http.PostAsync(new Uri(ClientUrl, path), new StringContent(body, Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process?.Dispose();
        if (_watchdog is { } watchdog)
        {
            // A line, then the end: the watchdog exits without deleting anything, which is done here.
            try
            {
                await watchdog.StandardInput.WriteLineAsync("disposed");
                watchdog.StandardInput.Close();
            }
            catch (IOException)
            {
                // The watchdog is gone already.
            }

            watchdog.Dispose();
        }

        _http.Dispose();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Never made, or already gone.
        }
    }

    /// <summary>
    /// A fresh folder for the server's data, in memory (<c>/dev/shm</c>) where it can be made: etcd acknowledges a
    /// write only after an fsync, which on a busy disk can take hundreds of milliseconds, and the tests would read that
    /// as the adapter being slow to leave.
    /// </summary>
    private static string DataDirectory()
    {
        var name = $"{DataDirectoryPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}";
        foreach (var parent in (string[])["/dev/shm", Path.GetTempPath()])
        {
            try
            {
                DeleteOrphans(parent);
                return Directory.CreateDirectory(Path.Combine(parent, name)).FullName;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // No /dev/shm here: the temp folder.
            }
        }

        throw new InvalidOperationException("No folder could be made for etcd's data in /dev/shm or the temp folder.");
    }

    private const string DataDirectoryPrefix = "etcd-test-";

    /// <summary>
    /// A shell that outlives this process (it is not on the leash) and reads its standard input: a line means the server
    /// was disposed; the end of input without one means this process died (the kernel closes the pipe), so once etcd,
    /// killed on the leash at the same moment, is surely gone, it deletes the data folder.
    /// </summary>
    private static Process? StartWatchdog(string dataDirectory)
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/bin/sh"))
        {
            return null;
        }

        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardInput = true, UseShellExecute = false };
        foreach (var argument in (string[])["-c", "if ! read -r line; then sleep 1; rm -rf -- \"$1\"; fi", "etcd-data-watchdog", dataDirectory])
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start);
    }

    /// <summary>Deletes the data folders of servers whose starting process is gone (its etcd died with it, on the leash).</summary>
    private static void DeleteOrphans(string parent)
    {
        foreach (var folder in Directory.EnumerateDirectories(parent, DataDirectoryPrefix + "*"))
        {
            var owner = Path.GetFileName(folder)[DataDirectoryPrefix.Length..].Split('-')[0];
            if (OperatingSystem.IsLinux() && int.TryParse(owner, System.Globalization.CultureInfo.InvariantCulture, out var pid) && !Directory.Exists($"/proc/{pid}"))
            {
                try
                {
                    Directory.Delete(folder, recursive: true);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Another run deleting it at the same time, or not ours to delete.
                }
            }
        }
    }

    private static string? FindBinary() =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Append("/usr/bin")
            .Select(dir => Path.Combine(dir, "etcd"))
            .FirstOrDefault(File.Exists);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>One key of an etcd range answer.</summary>
public sealed record EtcdKeyValue(string Key, string Value, long Lease);
