using System.Diagnostics;
using GracefulLifecycle.TestSupport;
using GracefulLifecycle.TestSupport.Contract;

namespace GracefulLifecycle.Etcd.Tests;

/// <summary>The test etcd server leaves nothing behind: no process, no data folder.</summary>
public sealed class EtcdServerTests
{
    [Fact]
    public void ContractSuites_AreDisposedByXunit_SoTheServersTheyStartStopWithTheTest()
    {
        // xUnit v2 ends a test class through IDisposable or IAsyncLifetime, never IAsyncDisposable: a suite with only the
        // latter left each real etcd it started running after the run (three per run, 123 MB of /dev/shm each).
        Assert.True(typeof(IAsyncLifetime).IsAssignableFrom(typeof(ServiceRegistryContract)));
    }

    [Fact]
    public async Task Dispose_KillsTheServer_AndDeletesItsData()
    {
        var etcd = await EtcdServer.StartAsync();
        var pid = etcd.ProcessId;
        var data = DataFolderOf(pid);
        Assert.True(Directory.Exists(data));

        await etcd.DisposeAsync();

        Assert.False(Directory.Exists(data));
        Assert.False(IsRunning(pid));
    }

    private static string DataFolderOf(int pid)
    {
        var arguments = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0');
        return arguments[Array.IndexOf(arguments, "--data-dir") + 1];
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
