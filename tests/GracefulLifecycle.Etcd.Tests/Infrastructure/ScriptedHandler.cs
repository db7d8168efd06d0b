using System.Net;
using System.Text;

namespace GracefulLifecycle.Etcd.Tests.Infrastructure;

/// <summary>A handler that answers each request with a scripted answer and records the port and path it was sent to.</summary>
internal sealed class ScriptedHandler(Func<HttpRequestMessage, HttpResponseMessage> answer) : HttpMessageHandler
{
    private readonly List<int> _ports = [];
    private readonly List<string> _paths = [];

    public int[] Ports
    {
        get
        {
            lock (_ports)
            {
                return [.. _ports];
            }
        }
    }

    public string[] Paths
    {
        get
        {
            lock (_ports)
            {
                return [.. _paths];
            }
        }
    }

    /// <summary>An answer with a JSON content type and <paramref name="body"/>.</summary>
    public static HttpResponseMessage Answer(HttpStatusCode status, string body) =>
        new(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        lock (_ports)
        {
            _ports.Add(request.RequestUri!.Port);
            _paths.Add(request.RequestUri.AbsolutePath);
        }

        return Task.FromResult(answer(request));
    }
}
