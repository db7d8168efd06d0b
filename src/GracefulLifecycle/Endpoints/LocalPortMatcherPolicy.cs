using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Matching;

namespace GracefulLifecycle.Endpoints;

/// <summary>
/// Matches an endpoint with <see cref="LocalPortMetadata"/> only on a connection accepted on one of its ports. Unlike
/// <c>RequireHost("*:port")</c>, which reads the Host header a client chooses (and which carries the Service's port,
/// not the container's, behind a port mapping), this reads the port the server accepted the connection on. Being a
/// matcher policy, an endpoint for other ports may share the path: Aspire's <c>/health</c> for the application and the
/// lifecycle's liveness on the management port, which wins there.
/// </summary>
internal sealed class LocalPortMatcherPolicy : MatcherPolicy, IEndpointSelectorPolicy
{
    // After host matching, before the ambiguity check.
    public override int Order => -50;

    public bool AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints) =>
        endpoints.Any(e => e.Metadata.GetMetadata<LocalPortMetadata>() is not null);

    public Task ApplyAsync(HttpContext httpContext, CandidateSet candidates)
    {
        var port = httpContext.Connection.LocalPort;
        var portSpecificMatch = false;
        for (var i = 0; i < candidates.Count; i++)
        {
            if (!candidates.IsValidCandidate(i) || candidates[i].Endpoint.Metadata.GetMetadata<LocalPortMetadata>() is not { } required)
            {
                continue;
            }

            if (required.Ports.Contains(port))
            {
                portSpecificMatch = true;
            }
            else
            {
                candidates.SetValidity(i, false);
            }
        }

        // The more specific endpoint wins, as with hosts: on the management port, the endpoint mapped for it answers
        // rather than one mapped for every port at the same path (which would otherwise be an ambiguous match).
        if (portSpecificMatch)
        {
            for (var i = 0; i < candidates.Count; i++)
            {
                if (candidates.IsValidCandidate(i) && candidates[i].Endpoint.Metadata.GetMetadata<LocalPortMetadata>() is null)
                {
                    candidates.SetValidity(i, false);
                }
            }
        }

        return Task.CompletedTask;
    }
}
