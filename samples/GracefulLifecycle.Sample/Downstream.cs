namespace GracefulLifecycle.Sample;

/// <summary>
/// The opt-in call to another service (<see cref="SampleOptions.Downstream"/>): the address names the service, and
/// Microsoft.Extensions.ServiceDiscovery picks one of its instances for each call, from the endpoint provider of the
/// registry whose section is configured. With a watching provider, an instance that leaves its registry leaves this
/// client's list within tens of milliseconds, so the instances it calls need wait only their propagation margin.
/// </summary>
internal static class Downstream
{
    /// <summary>Adds the resolver, the registry's provider and the client when <see cref="SampleOptions.Downstream"/> is set.</summary>
    /// <returns>Whether the call is on.</returns>
    public static bool TryAdd(IServiceCollection services, IConfiguration configuration)
    {
        if (configuration.GetSection(SampleOptions.SectionName).Get<SampleOptions>()?.Downstream is not { } downstream)
        {
            return false;
        }

        // Configuration (Services:catalog:http:0) and pass-through as in Aspire; the registry's provider is asked first.
        services.AddServiceDiscovery();
        if (configuration.GetSection("GracefulLifecycle:Etcd").Exists())
        {
            services.AddEtcdServiceEndpointProvider();
        }

        if (configuration.GetSection("GracefulLifecycle:Consul").Exists())
        {
            services.AddConsulServiceEndpointProvider();
        }

        if (configuration.GetSection("GracefulLifecycle:Eureka").Exists())
        {
            services.AddEurekaServiceEndpointProvider();
        }

        services.AddHttpClient(nameof(Downstream), client => client.BaseAddress = downstream).AddServiceDiscovery();
        return true;
    }

    /// <summary><c>GET /downstream?path=/</c>: calls the other service once, without retry, and says what it answered.</summary>
    public static async Task<IResult> CallAsync(IHttpClientFactory clients, string? path, CancellationToken cancellationToken)
    {
        var client = clients.CreateClient(nameof(Downstream));
        try
        {
            using var response = await client.GetAsync(path ?? "/", cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            return Results.Text($"{client.BaseAddress} answered {(int)response.StatusCode}: {body}", statusCode: response.IsSuccessStatusCode ? 200 : 502);
        }
        catch (HttpRequestException ex)
        {
            return Results.Text($"{client.BaseAddress} failed: {ex.Message}\n", statusCode: StatusCodes.Status502BadGateway);
        }
    }
}
