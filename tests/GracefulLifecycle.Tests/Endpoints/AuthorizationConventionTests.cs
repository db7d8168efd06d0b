using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using GracefulLifecycle.TestSupport;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Tests.Endpoints;

/// <summary>
/// <c>.RequireAuthorization()</c> on the builder <c>MapGracefulLifecycle</c> returns: probes stay anonymous and
/// answered, the preStop endpoint goes through authentication and authorization, then its own checks.
/// </summary>
public sealed class AuthorizationConventionTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new();
    private WebApplication _app = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<TimeProvider>(_time);
        builder.Services.AddGracefulLifecycle(o => o.ShutdownDelay = TimeSpan.FromSeconds(1));
        builder.Services.AddAuthentication(HeaderAuthentication.Name).AddScheme<AuthenticationSchemeOptions, HeaderAuthentication>(HeaderAuthentication.Name, null);
        builder.Services.AddAuthorization();
        _app = builder.Build();
        _app.UseAuthentication();
        _app.UseAuthorization();
        _app.MapGracefulLifecycle().RequireAuthorization();
        await _app.StartAsync();
        _client = new HttpClient { BaseAddress = new Uri(_app.Urls.First()), Timeout = TimeSpan.FromSeconds(10) };
        await _time.AdvanceUntilAsync(() => _app.Services.GetRequiredService<IGracefulLifecycle>().Phase == LifecyclePhase.Ready, "ready");
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        var stop = _app.StopAsync();
        while (!stop.IsCompleted)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(stop, Task.Delay(10));
        }

        await _app.DisposeAsync();
    }

    [Theory]
    [InlineData("/health")]
    [InlineData("/ifready")]
    public async Task Probes_StayAnonymousAndAnswer200_WhenTheBuilderRequiresAuthorization(string path)
    {
        using var response = await _client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task PreStop_WithoutCredentials_Gets401_AndNothingChanges()
    {
        using var response = await _client.PostAsync("/prestop", null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(LifecyclePhase.Ready, _app.Services.GetRequiredService<IGracefulLifecycle>().Phase);
    }

    [Fact]
    public async Task PreStop_WithCredentials_FromLoopback_Leaves()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/prestop");
        request.Headers.Add(HeaderAuthentication.Header, "operator");
        var call = _client.SendAsync(request);
        var lifecycle = _app.Services.GetRequiredService<IGracefulLifecycle>();
        await Eventually.TrueAsync(() => lifecycle.Phase == LifecyclePhase.Leaving, "leaving");
        await _time.AdvanceUntilAsync(() => call.IsCompleted, "the preStop answer", TimeSpan.FromMilliseconds(100));

        using var response = await call;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private sealed class HeaderAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string Name = "TestHeader";
        public const string Header = "X-Test-User";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (!Request.Headers.TryGetValue(Header, out var user))
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, user.ToString())], Name);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Name)));
        }
    }
}
