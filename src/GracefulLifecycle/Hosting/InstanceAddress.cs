using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using GracefulLifecycle.Endpoints;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Hosting;

/// <summary>
/// Where this instance can be reached, for registries: host name, IP address and the port the server actually
/// listens on (read once the server has started, so <c>--urls http://0.0.0.0:0</c> works too).
/// </summary>
internal sealed class InstanceAddress(IServiceProvider services)
{
    /// <summary>Describes the instance for the registries; called once, when registration starts.</summary>
    public ServiceInstance Describe()
    {
        var options = services.GetService<IOptions<GracefulLifecycleOptions>>()?.Value ?? new GracefulLifecycleOptions();
        var addresses = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var ports = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var scheme in new[] { Uri.UriSchemeHttp, Uri.UriSchemeHttps })
        {
            if (ChoosePort(addresses, scheme, options.PreStop.ManagementPort) is { } port)
            {
                ports[scheme] = port;
            }
        }

        return new ServiceInstance(
            services.GetService<IHostEnvironment>()?.ApplicationName ?? string.Empty,
            HostName,
            IpAddress,
            ports,
            MappedPath(EndpointNames.Readiness) ?? options.ReadinessPath,
            MappedPath(EndpointNames.Liveness) ?? options.LivenessPath);
    }

    /// <summary>
    /// Gets the path the endpoint is mapped at (a pattern given to a Map* method, or the option under a route group), or
    /// <see langword="null"/> when it is not mapped: the registries check the path that answers.
    /// </summary>
    private string? MappedPath(string displayName) =>
        services.GetService<EndpointDataSource>()?.Endpoints.OfType<RouteEndpoint>()
            .FirstOrDefault(e => e.DisplayName == displayName) is { } endpoint
            ? RoutePath.Normalize(endpoint.RoutePattern.RawText)
            : null;

    public static string HostName => Dns.GetHostName();

    /// <summary>
    /// Gets the first IPv4 address of an interface that is up and not loopback; on an IPv6-only host the first IPv6
    /// address that others can reach (not loopback, not link-local, which needs a scope the registry cannot carry);
    /// 127.0.0.1 only when there is neither.
    /// </summary>
    public static string IpAddress
    {
        get
        {
            try
            {
                return Choose(NetworkInterface.GetAllNetworkInterfaces()
                    .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
                    .SelectMany(n => n.GetIPProperties().UnicastAddresses)
                    .Select(a => a.Address)).ToString();
            }
            catch (NetworkInformationException)
            {
                return IPAddress.Loopback.ToString();
            }
        }
    }

    /// <summary>The choice <see cref="IpAddress"/> makes among the addresses of the interfaces that are up.</summary>
    internal static IPAddress Choose(IEnumerable<IPAddress> addresses)
    {
        var candidates = addresses.Where(a => !IPAddress.IsLoopback(a)).ToList();
        return candidates.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
            ?? candidates.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetworkV6 && !a.IsIPv6LinkLocal && !a.IsIPv6Multicast)
            ?? IPAddress.Loopback;
    }

    internal static int? ChoosePort(IEnumerable<string> addresses, string scheme, int? managementPort)
    {
        foreach (var address in addresses)
        {
            var binding = BindingAddress.Parse(address);
            if (string.Equals(binding.Scheme, scheme, StringComparison.OrdinalIgnoreCase) && binding.Port > 0 && binding.Port != managementPort)
            {
                return binding.Port;
            }
        }

        return null;
    }
}
