using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Kubernetes;

/// <summary>
/// The pod as read at startup, and this application's container in it; null until the startup check has read it, and
/// when it could not.
/// </summary>
internal sealed class PodSnapshot
{
    private volatile Holder? _value;

    public KubernetesPod? Pod => _value?.Pod;

    public PodContainer? Container => _value?.Container;

    public void Set(KubernetesPod pod, PodContainer? container) => _value = new Holder(pod, container);

    private sealed record Holder(KubernetesPod Pod, PodContainer? Container);
}

/// <summary>
/// Reads the pod while the host starts and, once the server listens (its ports are known then), holds the spec
/// against the options. A contradiction that loses requests fails the start like an invalid option (exit code 1 with
/// the messages, <see cref="OptionsValidationException"/>) unless <see cref="KubernetesOptions.OnMismatch"/> is
/// <see cref="KubernetesMismatchAction.Warn"/>. Registered ahead of the lifecycle's own hosted service, whose
/// <c>StartedAsync</c> ends the window in which an invalid option exits with code 1 and starts preload. A pod that
/// cannot be read changes nothing (the reader has warned once).
/// </summary>
internal sealed class KubernetesStartupCheck(
    PodReader reader,
    PodSnapshot snapshot,
    IOptions<KubernetesOptions> options,
    IOptions<GracefulLifecycleOptions> lifecycleOptions,
    IServiceProvider services,
    ILogger<KubernetesStartupCheck> logger) : IHostedLifecycleService
{
    private Task<PodReadResult>? _read;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        // Early, so the round trip overlaps the rest of the start; awaited once the server listens.
        _read = reader.ReadAsync(cancellationToken);
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StartedAsync(CancellationToken cancellationToken)
    {
        var result = await (_read ?? reader.ReadAsync(cancellationToken)).ConfigureAwait(false);
        if (result.Pod is not { } pod)
        {
            return;
        }

        var input = new PodCheckInput(
            lifecycleOptions.Value,
            services.GetRequiredService<ShutdownTimings>(),
            ListeningPorts(),
            IsMapped,
            options.Value.ContainerName);
        var (container, _, _) = PodSpecCheck.FindContainer(pod, input);
        snapshot.Set(pod, container);

        var findings = PodSpecCheck.Check(pod, input);
        var failures = findings.Where(f => f.LosesRequests).Select(f => f.Message).ToArray();
        foreach (var advice in findings.Where(f => !f.LosesRequests))
        {
            Log.SpecAdvice(logger, reader.Location.Pod, advice.Message);
        }

        if (failures.Length > 0 && options.Value.OnMismatch == KubernetesMismatchAction.Fail)
        {
            throw new OptionsValidationException(
                Options.DefaultName,
                typeof(KubernetesOptions),
                [.. failures.Select(f => $"Pod {reader.Location.Pod}: {f}"),
                 $"To start anyway, with each of these as a warning: {KubernetesOptions.SectionName}:{nameof(KubernetesOptions.OnMismatch)}=Warn."]);
        }

        foreach (var failure in failures)
        {
            Log.SpecMismatch(logger, reader.Location.Pod, failure);
        }

        if (findings.Count == 0)
        {
            Log.SpecMatches(logger, reader.Location.Pod, container?.Name ?? "-", pod.GracePeriodSeconds);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private HashSet<int> ListeningPorts()
    {
        var ports = new HashSet<int>();
        if (services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>() is { } feature)
        {
            foreach (var address in feature.Addresses)
            {
                try
                {
                    if (BindingAddress.Parse(address).Port is > 0 and var port)
                    {
                        ports.Add(port);
                    }
                }
                catch (FormatException)
                {
                    // A Unix socket or a named pipe: no TCP port to hold a probe against.
                }
            }
        }

        return ports;
    }

    private bool IsMapped(string path)
    {
        if (services.GetService<EndpointDataSource>() is not { } source)
        {
            return false;
        }

        var wanted = PodSpecCheck.PathOnly(path).Trim('/');
        return source.Endpoints.OfType<RouteEndpoint>().Any(e =>
            e.RoutePattern.Parameters.Count == 0
            && string.Equals((e.RoutePattern.RawText ?? string.Empty).Trim('/'), wanted, StringComparison.OrdinalIgnoreCase));
    }
}
