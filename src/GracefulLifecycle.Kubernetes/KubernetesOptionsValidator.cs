using GracefulLifecycle.Validation;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Kubernetes;

/// <summary>Checks <see cref="KubernetesOptions"/> at startup; every message names the configuration key at fault.</summary>
internal sealed class KubernetesOptionsValidator : IValidateOptions<KubernetesOptions>
{
    private const string Prefix = KubernetesOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, KubernetesOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var check = new OptionChecks(Prefix);
        if (options.ApiServer is { } api
            && (!Uri.TryCreate(api, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.UserInfo)))
        {
            check.Fail(
                $"{Prefix}{nameof(options.ApiServer)} must be an absolute https:// URL without a query or credentials, such as https://kubernetes.default.svc " +
                $"(http:// is accepted for a local proxy or a test server) (was '{api}'); leave it unset in a pod to use KUBERNETES_SERVICE_HOST.");
        }

        DnsName(check, nameof(options.Namespace), options.Namespace, 63, allowDots: false);
        DnsName(check, nameof(options.PodName), options.PodName, 253, allowDots: true);
        DnsName(check, nameof(options.ContainerName), options.ContainerName, 63, allowDots: false);
        check.Text(nameof(options.TokenPath), options.TokenPath);
        check.OneOf(nameof(options.OnMismatch), options.OnMismatch);
        check.Positive(nameof(options.RequestTimeout), options.RequestTimeout);
        return check.Result();
    }

    /// <summary>
    /// A name Kubernetes accepts (RFC 1123, as apimachinery's validation does): a pod name is a DNS subdomain (dots
    /// allowed, up to 253), a namespace or a container a DNS label (up to 63). A wrong one would only ever read 404.
    /// </summary>
    private static void DnsName(OptionChecks check, string option, string? value, int maxLength, bool allowDots)
    {
        if (value is null)
        {
            return;
        }

        var valid = value.Length is > 0 && value.Length <= maxLength
            && char.IsAsciiLetterLower(value[0]) | char.IsAsciiDigit(value[0])
            && char.IsAsciiLetterLower(value[^1]) | char.IsAsciiDigit(value[^1])
            && value.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-' || (allowDots && c == '.'));
        if (!valid)
        {
            check.Fail(
                $"{check.Prefix}{option} must be a Kubernetes name: lower-case letters, digits and '-'{(allowDots ? ", '.'" : string.Empty)}, " +
                $"starting and ending with a letter or digit, at most {maxLength} characters (was '{value}'); leave it unset to use what the pod finds.");
        }
    }
}
