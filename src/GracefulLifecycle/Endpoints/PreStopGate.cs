using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Endpoints;

/// <summary>
/// The access checks of the preStop endpoint (see <see cref="PreStopOptions"/>): loopback only by default;
/// otherwise every configured check (management port, token, allowed networks) must pass.
/// </summary>
internal sealed class PreStopGate
{
    private readonly int? _managementPort;
    private readonly string _tokenHeader;
    private readonly byte[]? _tokenHash;
    private readonly IPNetwork[] _networks;
    private readonly bool _checkAddress;

    public PreStopGate(IOptions<GracefulLifecycleOptions> options)
    {
        var preStop = options.Value.PreStop;
        _managementPort = preStop.ManagementPort;
        _tokenHeader = preStop.TokenHeaderName;
        _tokenHash = preStop.Token is { } token ? Hash(token) : null;
        _networks = preStop.AllowedNetworks.Select(n => IPNetwork.Parse(n)).ToArray();
        _checkAddress = _networks.Length > 0 || (_managementPort is null && _tokenHash is null);
    }

    public PreStopDecision Evaluate(HttpContext context)
    {
        if (_managementPort is { } port && context.Connection.LocalPort != port)
        {
            // Off the management port the endpoint does not exist.
            return new(StatusCodes.Status404NotFound, $"not the management port {port}");
        }

        if (_tokenHash is not null)
        {
            var sent = context.Request.Headers[_tokenHeader];
            if (sent.Count != 1 || !CryptographicOperations.FixedTimeEquals(Hash(sent[0] ?? string.Empty), _tokenHash))
            {
                return new(StatusCodes.Status403Forbidden, $"missing or wrong {_tokenHeader} header");
            }
        }

        if (_checkAddress && !IsAllowedAddress(context.Connection.RemoteIpAddress))
        {
            return new(StatusCodes.Status403Forbidden, _networks.Length == 0
                ? "the caller is not on loopback"
                : "the caller is neither on loopback nor in PreStop:AllowedNetworks");
        }

        return PreStopDecision.Allowed;
    }

    private bool IsAllowedAddress(IPAddress? address)
    {
        if (address is null)
        {
            return false;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address))
        {
            return true;
        }

        foreach (var network in _networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    // Hashing first gives both sides the same length, so the comparison time says nothing about the token.
    private static byte[] Hash(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));
}
