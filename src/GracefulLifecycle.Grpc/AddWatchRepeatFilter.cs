using Grpc.AspNetCore.Server;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Grpc;

/// <summary>Adds <see cref="WatchRepeatFilter"/> to the server's interceptors once; it acts on the health service's Watch alone.</summary>
internal sealed class AddWatchRepeatFilter : IConfigureOptions<GrpcServiceOptions>
{
    public void Configure(GrpcServiceOptions options)
    {
        if (!options.Interceptors.Any(i => i.Type == typeof(WatchRepeatFilter)))
        {
            options.Interceptors.Add<WatchRepeatFilter>();
        }
    }
}
