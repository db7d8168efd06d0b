namespace GracefulLifecycle.Kubernetes;

/// <summary>What startup does when the pod spec contradicts the lifecycle's options in a way that loses requests.</summary>
public enum KubernetesMismatchAction
{
    /// <summary>The application does not start: exit code 1, each contradiction on standard error.</summary>
    Fail = 0,

    /// <summary>Each contradiction is logged as a warning and the application starts.</summary>
    Warn = 1,
}
