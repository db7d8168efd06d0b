namespace GracefulLifecycle;

/// <summary>The diagnostic ids this library reports, in one place so that none is reused.</summary>
internal static class DiagnosticIds
{
    /// <summary>
    /// The ids of <see cref="System.Diagnostics.CodeAnalysis.ExperimentalAttribute"/>: an API that may change or go
    /// in a minor release. Each is listed in README.md ("Experimental APIs"); an id is never reused once removed.
    /// </summary>
    internal static class Experiments
    {
        /// <summary>The adaptive shutdown delay: its options and <see cref="ReadinessCheckRule"/>.</summary>
        internal const string AdaptiveDelay = "GLEXP001";

        /// <summary>The shutdown advice a platform package gives as a shutdown starts: <see cref="IShutdownAdvisor"/>.</summary>
        internal const string ShutdownAdvice = "GLEXP002";

        /// <summary>Where a diagnostic's id leads (the README's section on experimental APIs).</summary>
        internal const string UrlFormat = "https://github.com/GracefulLifecycle/GracefulLifecycle/blob/main/README.md#experimental-apis";
    }
}
