using System.Net;
using System.Text.Json;

using GracefulLifecycle.TestSupport;

namespace GracefulLifecycle.Tests.Infrastructure;

/// <summary>A parsed probe answer: status code and the JSON body's <c>status</c> and <c>phase</c>.</summary>
public sealed record ProbeResponse(HttpStatusCode Code, string? Status, string? Phase, string Body)
{
    public static async Task<ProbeResponse> GetAsync(HttpClient client, string path, Action<HttpRequestMessage>? configure = null, HttpMethod? method = null)
    {
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, path);
        configure?.Invoke(request);
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        string? status = null, phase = null;
        if (body.Length > 0)
        {
            using var json = JsonDocument.Parse(body);
            status = json.RootElement.TryGetProperty("status", out var s) ? s.GetString() : null;
            phase = json.RootElement.TryGetProperty("phase", out var p) ? p.GetString() : null;
        }

        return new ProbeResponse(response.StatusCode, status, phase, body);
    }
}
