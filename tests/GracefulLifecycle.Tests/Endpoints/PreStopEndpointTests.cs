using System.Net;
using GracefulLifecycle.Testing;
using GracefulLifecycle.Tests.Infrastructure;

namespace GracefulLifecycle.Tests.Endpoints;

public sealed class PreStopEndpointTests
{
    private static Action<HttpRequestMessage> From(string address, string? token = null) => request =>
    {
        request.Headers.Add(SampleAppFactory.RemoteAddressHeader, address);
        if (token is not null)
        {
            request.Headers.Add("X-PreStop-Token", token);
        }
    };

    [Theory]
    [InlineData("10.1.2.3")]
    [InlineData("192.168.0.7")]
    [InlineData("2001:db8::1")]
    public async Task ByDefault_ACallerOffLoopback_Gets403_AndNothingChanges(string address)
    {
        await using var app = new SampleAppFactory();
        using var client = app.CreateClient();
        await app.WaitUntilReadyAsync();

        var answer = await ProbeResponse.GetAsync(client, "/prestop", From(address), HttpMethod.Post);

        Assert.Equal((HttpStatusCode.Forbidden, "Forbidden"), (answer.Code, answer.Status));
        Assert.Equal(LifecyclePhase.Ready, app.Lifecycle.Phase);
        Assert.False(app.Lifecycle.Leaving.IsCancellationRequested);
        Assert.Equal(HttpStatusCode.OK, (await ProbeResponse.GetAsync(client, "/ifready")).Code);
    }

    [Fact]
    public async Task ACallerWithNoKnownAddress_Gets403()
    {
        await using var app = new SampleAppFactory();
        using var client = app.CreateClient();
        await app.WaitUntilReadyAsync();

        // The in-memory test server has no client address at all.
        var answer = await ProbeResponse.GetAsync(client, "/prestop");

        Assert.Equal(HttpStatusCode.Forbidden, answer.Code);
        Assert.Equal(LifecyclePhase.Ready, app.Lifecycle.Phase);
    }

    [Fact]
    public async Task WithAToken_AWrongOrMissingToken_Gets403_TheRightOneLeaves_FromAnyAddress()
    {
        await using var app = new SampleAppFactory().With("GracefulLifecycle:PreStop:Token", "correct-horse-battery-staple");
        using var client = app.CreateClient();
        await app.WaitUntilReadyAsync();

        Assert.Equal(HttpStatusCode.Forbidden, (await ProbeResponse.GetAsync(client, "/prestop", From("10.0.0.9", "wrong"))).Code);
        Assert.Equal(HttpStatusCode.Forbidden, (await ProbeResponse.GetAsync(client, "/prestop", From("127.0.0.1"))).Code);
        Assert.Equal(HttpStatusCode.Forbidden, (await ProbeResponse.GetAsync(client, "/prestop", From("10.0.0.9", "correct-horse-battery-stapl"))).Code);
        Assert.Equal(LifecyclePhase.Ready, app.Lifecycle.Phase);

        var call = ProbeResponse.GetAsync(client, "/prestop", From("10.0.0.9", "correct-horse-battery-staple"));
        await app.WaitUntilServingTheDelayAsync();
        app.Time.Advance(TimeSpan.FromSeconds(5));

        var answer = await Eventually.ResultAsync(call, "the preStop answer");
        Assert.Equal((HttpStatusCode.OK, "ReadyToStop", "Leaving"), (answer.Code, answer.Status, answer.Phase));
    }

    [Theory]
    [InlineData("correct-horse-battery-staple-and-more")]
    [InlineData("xcorrect-horse-battery-staple")]
    [InlineData("CORRECT-HORSE-BATTERY-STAPLE")]
    public async Task WithAToken_ATokenThatOnlyResemblesTheRightOne_Gets403(string sent)
    {
        await using var app = new SampleAppFactory().With("GracefulLifecycle:PreStop:Token", "correct-horse-battery-staple");
        using var client = app.CreateClient();
        await app.WaitUntilReadyAsync();

        var answer = await ProbeResponse.GetAsync(client, "/prestop", From("10.0.0.9", sent));

        Assert.Equal((HttpStatusCode.Forbidden, "Forbidden"), (answer.Code, answer.Status));
        Assert.Equal(LifecyclePhase.Ready, app.Lifecycle.Phase);
    }

    [Fact]
    public async Task WithAllowedNetworks_CallersInsideAreAccepted_OthersGet403()
    {
        await using var app = new SampleAppFactory().With("GracefulLifecycle:PreStop:AllowedNetworks:0", "10.0.0.0/8");
        using var client = app.CreateClient();
        await app.WaitUntilReadyAsync();

        Assert.Equal(HttpStatusCode.Forbidden, (await ProbeResponse.GetAsync(client, "/prestop", From("192.168.1.1"))).Code);
        Assert.Equal(LifecyclePhase.Ready, app.Lifecycle.Phase);

        var call = ProbeResponse.GetAsync(client, "/prestop", From("::ffff:10.20.30.40"));
        await app.WaitUntilServingTheDelayAsync();
        app.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(HttpStatusCode.OK, (await Eventually.ResultAsync(call, "the preStop answer")).Code);
    }

    [Fact]
    public async Task WithAManagementPort_ACallOnAnotherPort_Gets404_AndNothingChanges()
    {
        await using var app = new SampleAppFactory().With("GracefulLifecycle:PreStop:ManagementPort", "8081");
        using var client = app.CreateClient();
        await app.WaitUntilReadyAsync();

        var answer = await ProbeResponse.GetAsync(client, "/prestop", From("127.0.0.1"));

        Assert.Equal(HttpStatusCode.NotFound, answer.Code);
        Assert.Equal(LifecyclePhase.Ready, app.Lifecycle.Phase);
    }

    [Fact]
    public async Task FiftyConcurrentCalls_ShareOneSequence_AndAllGetTheSameAnswerAfterTheDelay()
    {
        await using var app = new SampleAppFactory();
        using var client = app.CreateClient();
        await app.WaitUntilReadyAsync();
        var leavingEvents = 0;
        app.Lifecycle.PhaseChanged += (_, e) =>
        {
            if (e.Current == LifecyclePhase.Leaving)
            {
                Interlocked.Increment(ref leavingEvents);
            }
        };

        var calls = Enumerable.Range(0, 50)
            .Select(i => ProbeResponse.GetAsync(client, "/prestop", From("127.0.0.1"), i % 2 == 0 ? HttpMethod.Get : HttpMethod.Post))
            .ToArray();
        await app.WaitUntilServingTheDelayAsync();
        app.Time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.All(calls, c => Assert.False(c.IsCompleted));

        app.Time.Advance(TimeSpan.FromSeconds(0.1));
        var answers = await Eventually.ResultAsync(Task.WhenAll(calls), "all fifty answers");

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.Code));
        Assert.Single(answers.Select(a => a.Body).Distinct());
        Assert.Equal(1, leavingEvents);

        // A repeated hook (preStop is delivered at least once) answers at once.
        var again = await Eventually.ResultAsync(ProbeResponse.GetAsync(client, "/prestop", From("127.0.0.1")), "a repeated call");
        Assert.Equal(answers[0].Body, again.Body);
    }

    [Fact]
    public async Task OnRealKestrel_ALoopbackCaller_IsAccepted()
    {
        await using var app = new SampleAppFactory();
        app.UseKestrel(0);
        app.StartServer();
        using var client = app.CreateClient();
        Assert.Equal("127.0.0.1", client.BaseAddress!.Host);
        await app.WaitUntilReadyAsync();

        var call = ProbeResponse.GetAsync(client, "/prestop");
        await app.WaitUntilServingTheDelayAsync();
        app.Time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(HttpStatusCode.OK, (await Eventually.ResultAsync(call, "the preStop answer")).Code);
    }
}
