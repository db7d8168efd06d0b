using System.Collections.Concurrent;

namespace GracefulLifecycle.Tests.Registration;

/// <summary>An in-memory registry that records every call in order and fails or blocks on demand.</summary>
internal sealed class RecordingRegistry(string name = "Recording") : IServiceRegistry
{
    private readonly ConcurrentQueue<string> _calls = new();
    private int _registerFailuresLeft;

    public string Name { get; } = name;

    public TimeSpan VisibilityDelay { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Gets the propagation delay as one consumer term, unless <see cref="Propagation"/> gives the terms.</summary>
    public TimeSpan PropagationDelay { get; init; } = TimeSpan.FromSeconds(8);

    /// <summary>Gets the propagation delay term by term; <see langword="null"/>: <see cref="PropagationDelay"/> as one consumer term.</summary>
    public PropagationDelay? Propagation { get; init; }

    PropagationDelay IServiceRegistry.PropagationDelay =>
        Propagation ?? new([new PropagationTerm(PropagationStage.ConsumerRefresh, PropagationDelay, $"Test:{Name}:PropagationDelay")]);

    public TimeSpan RenewalInterval { get; init; } = TimeSpan.FromSeconds(10);

    public string[] Calls => [.. _calls];

    /// <summary>Gets or sets what the next renewals answer; <see langword="false"/> means "registration lost".</summary>
    public bool RenewResult { get; set; } = true;

    /// <summary>Gets or sets a gate renewals wait on before answering, to hold one in flight.</summary>
    public TaskCompletionSource? RenewGate { get; set; }

    /// <summary>Gets or sets a value indicating whether deregistration hangs until its token fires.</summary>
    public bool DeregisterHangs { get; set; }

    public int Count(string call) => _calls.Count(c => c == call);

    public void FailNextRegistrations(int count) => Volatile.Write(ref _registerFailuresLeft, count);

    /// <summary>Gets or sets what every registration throws (a configuration error such as a missing port).</summary>
    public Exception? RegisterFailure { get; set; }

    public Task RegisterAsync(ServiceInstance instance, CancellationToken cancellationToken)
    {
        _calls.Enqueue("register");
        if (RegisterFailure is { } failure)
        {
            return Task.FromException(failure);
        }

        return Interlocked.Decrement(ref _registerFailuresLeft) >= 0
            ? Task.FromException(new HttpRequestException("registry unreachable"))
            : Task.CompletedTask;
    }

    public async Task<bool> RenewAsync(CancellationToken cancellationToken)
    {
        _calls.Enqueue("renew");
        if (RenewGate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        _calls.Enqueue(RenewResult ? "renewed" : "lost");
        return RenewResult;
    }

    /// <summary>Gets the context of the last deregistration call, if one was made.</summary>
    public DeregistrationContext? Deregistration { get; private set; }

    public async Task DeregisterAsync(DeregistrationContext context, CancellationToken cancellationToken)
    {
        Deregistration = context;
        _calls.Enqueue("deregister");
        if (DeregisterHangs)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
    }
}
