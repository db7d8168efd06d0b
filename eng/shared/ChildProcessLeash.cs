using System.Collections.Concurrent;
using System.Diagnostics;

namespace GracefulLifecycle.TestSupport;

/// <summary>
/// Starts child processes (etcd, HAProxy, sample replicas) on a leash: on Linux each runs under
/// <c>setpriv --pdeathsig KILL</c> (util-linux), so the kernel kills it when the process that started it dies, however
/// it dies: a test host killed with SIGKILL, a run canceled, a fixture never disposed. Disposal still stops children
/// first; this is the net under it (source-shared, eng/shared, with the drill).
/// </summary>
/// <remarks>
/// The kernel sends the parent-death signal when the <em>thread</em> that forked the child exits, not the process
/// (prctl(2), PR_SET_PDEATHSIG), and a thread-pool thread may retire while the child still runs. So every child is
/// forked from one dedicated thread that lives as long as the process. <c>setpriv</c> sets the signal and then execs
/// the program, so the child's pid is the program's own (signals sent to it reach the program).
/// </remarks>
public static class ChildProcessLeash
{
    private static readonly string? Setpriv = OperatingSystem.IsLinux()
        ? new[] { "/usr/bin/setpriv", "/bin/setpriv" }.FirstOrDefault(File.Exists)
        : null;

    private static readonly BlockingCollection<Action> Forks = StartForkThread();

    /// <summary>Gets a value indicating whether children are leashed here (Linux with util-linux's setpriv).</summary>
    public static bool IsAvailable => Setpriv is not null;

    /// <summary>Starts <paramref name="start"/> on the leash and returns the running process.</summary>
    public static Process Start(ProcessStartInfo start)
    {
        var process = new Process { StartInfo = start };
        Start(process);
        return process;
    }

    /// <summary>
    /// Starts <paramref name="process"/> (its <see cref="Process.StartInfo"/> set, with arguments in
    /// <see cref="ProcessStartInfo.ArgumentList"/>, event handlers attached) on the leash.
    /// </summary>
    public static void Start(Process process)
    {
        ArgumentNullException.ThrowIfNull(process);
        var start = process.StartInfo;
        if (Setpriv is { } setpriv)
        {
            if (!string.IsNullOrEmpty(start.Arguments))
            {
                throw new ArgumentException("Pass the arguments in ArgumentList, so they can be put behind setpriv.", nameof(process));
            }

            var arguments = start.ArgumentList.ToList();
            start.ArgumentList.Clear();
            foreach (var argument in (string[])["--pdeathsig", "KILL", "--", start.FileName, .. arguments])
            {
                start.ArgumentList.Add(argument);
            }

            start.FileName = setpriv;
        }

        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Forks.Add(() =>
        {
            try
            {
                process.Start();
                started.SetResult();
            }
            catch (Exception e)
            {
                started.SetException(e);
            }
        });
        started.Task.GetAwaiter().GetResult();
    }

    private static BlockingCollection<Action> StartForkThread()
    {
        var forks = new BlockingCollection<Action>();
        var thread = new Thread(() =>
        {
            foreach (var fork in forks.GetConsumingEnumerable())
            {
                fork();
            }
        })
        {
            IsBackground = true,
            Name = "Child process forks",
        };
        thread.Start();
        return forks;
    }
}
