using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.Hosting;

/// <summary>
/// Where this instance can be reached, for registries: host name, IP address and the port the server actually
/// listens on (read once the server has started, so <c>--urls http://0.0.0.0:0</c> works too).
/// </summary>
internal sealed class InstanceAddress(IServiceProvider services)
{
    public static string HostName => Dns.GetHostName();

    /// <summary>Gets the first IPv4 address of an interface that is up and not loopback, or 127.0.0.1.</summary>
    public static string IpAddress
    {
        get
        {
            try
            {
                var address = NetworkInterface.GetAllNetworkInterfaces()
                    .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
                    .SelectMany(n => n.GetIPProperties().UnicastAddresses)
                    .Select(a => a.Address)
                    .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
                return (address ?? IPAddress.Loopback).ToString();
            }
            catch (NetworkInformationException)
            {
                return IPAddress.Loopback.ToString();
            }
        }
    }

    /// <summary>Gets the port of the first address the server listens on with the given scheme, if any.</summary>
    public int? ListeningPort(string scheme = "http")
    {
        var addresses = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses;
        if (addresses is null)
        {
            return null;
        }

        foreach (var address in addresses)
        {
            var binding = BindingAddress.Parse(address);
            if (string.Equals(binding.Scheme, scheme, StringComparison.OrdinalIgnoreCase) && binding.Port > 0)
            {
                return binding.Port;
            }
        }

        return null;
    }
}
