using GracefulLifecycle.TestSupport;

namespace GracefulLifecycle.WebhookRegistry.Tests;

/// <summary>One call the fake webhook received; the webhook adds nothing to what every registry fake records.</summary>
internal sealed class WebhookCall(int sequence, string method, string path, string query, string body, long arrivedAt)
    : RegistryCall(sequence, method, path, query, body, arrivedAt);
