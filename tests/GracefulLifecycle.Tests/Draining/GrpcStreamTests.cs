using System.Text;
using Grpc.Core;
using Grpc.Net.Client;
using GracefulLifecycle.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulLifecycle.Tests.Draining;

/// <summary>
/// A gRPC server stream on real Kestrel (HTTP/2) read by the real Grpc.Net.Client: messages flow through the
/// shutdown delay, and when the drain starts the method returns, so the client sees the end of the stream with
/// status OK instead of a reset at the drain deadline.
/// </summary>
public sealed class GrpcStreamTests
{
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["GracefulLifecycle:ShutdownDelay"] = "00:00:05",
        ["GracefulLifecycle:DrainTimeout"] = "00:00:10",
    };

    [Fact]
    public async Task ServerStream_EndsWithStatusOk_WhenTheDrainStarts()
    {
        await using var host = await LifecycleTestHost.StartAsync(
            settings: Settings,
            services: s =>
            {
                s.AddGrpc();
                s.Configure<KestrelServerOptions>(k => k.ConfigureEndpointDefaults(e => e.Protocols = HttpProtocols.Http2));
            },
            map: app => app.MapGrpcService<TickService>());
        await host.AdvanceUntilAsync(() => host.Lifecycle.Phase == LifecyclePhase.Ready, "ready");
        using var channel = GrpcChannel.ForAddress(host.BaseAddress);
        using var call = channel.CreateCallInvoker().AsyncServerStreamingCall(TickServiceBase.Ticks, null, new CallOptions(), "go");

        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var stop = host.BeginStopAsync();
        await host.Time.AdvanceUntilAsync(() => host.Lifecycle.Phase == LifecyclePhase.Leaving, "leaving");

        // Still streaming while leaving: the delay is for exactly this.
        var during = 0;
        while (during < 3 && await call.ResponseStream.MoveNext(CancellationToken.None))
        {
            during++;
        }

        Assert.Equal(3, during);
        await host.Time.AdvanceUntilAsync(() => host.Lifecycle.Draining.IsCancellationRequested, "the drain", TimeSpan.FromMilliseconds(500));
        while (await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)))
        {
            // Ticks sent before the method saw the token.
        }

        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        await stop.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(host.Logs.Lines, l => l.Contains("aborting", StringComparison.Ordinal));
    }

    /// <summary>
    /// One server-streaming method, <c>/ticks.Ticks/Stream</c>, with UTF-8 strings for messages: what generated code
    /// would declare (a base with the descriptor and a virtual method), written by hand so the test needs no codegen.
    /// </summary>
    [BindServiceMethod(typeof(TickServiceBase), nameof(BindService))]
    internal abstract class TickServiceBase
    {
        public static readonly Method<string, string> Ticks = new(
            MethodType.ServerStreaming,
            "ticks.Ticks",
            "Stream",
            Marshallers.Create(s => Encoding.UTF8.GetBytes(s), b => Encoding.UTF8.GetString(b)),
            Marshallers.Create(s => Encoding.UTF8.GetBytes(s), b => Encoding.UTF8.GetString(b)));

        public static void BindService(ServiceBinderBase binder, TickServiceBase? service) =>
            binder.AddMethod(Ticks, service is null ? null : service.Stream);

        public abstract Task Stream(string request, IServerStreamWriter<string> responses, ServerCallContext context);
    }

    /// <summary>Streams a tick every 20 ms until the drain starts, then returns: the call ends with status OK.</summary>
    internal sealed class TickService : TickServiceBase
    {
        public override async Task Stream(string request, IServerStreamWriter<string> responses, ServerCallContext context)
        {
            var draining = context.GetHttpContext().GetDrainingToken();
            for (var i = 0; !draining.IsCancellationRequested; i++)
            {
                await responses.WriteAsync($"tick {i}");
                await Task.Delay(20, CancellationToken.None);
            }
        }
    }
}
