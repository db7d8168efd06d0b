using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Health.V1;

namespace GracefulLifecycle.Grpc;

/// <summary>
/// Sends a <c>Watch</c> stream of <c>grpc.health.v1.Health</c> a status only when it differs from the last one sent,
/// as the protocol describes Watch ("a new message whenever the service's serving status changes"). The lifecycle sets
/// NOT_SERVING the moment leaving starts; when the drain starts, Grpc.AspNetCore.HealthChecks completes every Watch call
/// with a NOT_SERVING of its own (<c>GrpcHealthChecksOptions.SuppressCompletionOnShutdown</c>, false by default), which
/// told the client the same news twice. The call still completes then, so the drain does not wait for it.
/// </summary>
internal sealed class WatchRepeatFilter : Interceptor
{
    private const string WatchMethod = "/grpc.health.v1.Health/Watch";

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (context.Method == WatchMethod && responseStream is IServerStreamWriter<HealthCheckResponse> watch)
        {
            return continuation(request, (IServerStreamWriter<TResponse>)(object)new Writer(watch), context);
        }

        return continuation(request, responseStream, context);
    }

    private sealed class Writer(IServerStreamWriter<HealthCheckResponse> inner) : IServerStreamWriter<HealthCheckResponse>
    {
        private HealthCheckResponse.Types.ServingStatus? _last;

        public WriteOptions? WriteOptions
        {
            get => inner.WriteOptions;
            set => inner.WriteOptions = value;
        }

        // Watch writes one message at a time (HealthServiceImpl reads its queue in a single loop).
        public Task WriteAsync(HealthCheckResponse message)
        {
            if (_last == message.Status)
            {
                return Task.CompletedTask;
            }

            _last = message.Status;
            return inner.WriteAsync(message);
        }
    }
}
