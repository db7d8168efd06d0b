using System.Net;
using GracefulLifecycle.TestSupport;
using Microsoft.AspNetCore.Hosting;
using GracefulLifecycle.Testing;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulLifecycle.Tests.Testing;

/// <summary>
/// The public test kit, used as an application's own tests would: a plain <see cref="WebApplicationFactory{TEntryPoint}"/>
/// of the sample (whose settings serve a 5 s delay), with and without <c>WithGracefulLifecycleTesting()</c>.
/// </summary>
public sealed class TestKitTests
{
    [Fact]
    public async Task WithTheKit_PreStopThroughTestServer_Answers200_WithNoDelayServed_AndReadinessFails()
    {
        // A clock nobody moves: a delay of any length would never end, so the answer shows none is served.
        var time = new FakeTimeProvider();
        await using var factory = Sample().WithGracefulLifecycleTesting(o => o.TimeProvider = time);
        await factory.WaitUntilReadyAsync();
        using var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/ifready", UriKind.Relative))).StatusCode);

        using var preStop = await client.PostAsync(new Uri("/prestop", UriKind.Relative), null).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(HttpStatusCode.OK, preStop.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync(new Uri("/ifready", UriKind.Relative))).StatusCode);
        Assert.Equal(LifecyclePhase.Leaving, factory.GetGracefulLifecycle().Phase);
    }

    [Fact]
    public async Task WithoutTheKit_PreStopThroughTestServer_Gets403_TheServerHasNoConnection()
    {
        // No delay, so that disposing does not wait it out: the refusal is what this is about.
        await using var factory = Sample(b => b.UseSetting("GracefulLifecycle:ShutdownDelay", "00:00:00"));
        using var client = factory.CreateClient();

        using var preStop = await client.PostAsync(new Uri("/prestop", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.Forbidden, preStop.StatusCode);
    }

    [Fact]
    public async Task WithTheKit_NoSignalHandlerIsRegistered_AndTheDelayIsZero_WhateverTheAppConfigures()
    {
        var logs = new CapturingLoggerProvider();
        await using var factory = Sample(b => b.UseSetting("Logging:LogLevel:GracefulLifecycle", "Information").ConfigureLogging(l => l.AddProvider(logs)))
            .WithGracefulLifecycleTesting();
        await factory.WaitUntilReadyAsync();

        var options = factory.Services.GetRequiredService<IOptions<GracefulLifecycleOptions>>().Value;
        Assert.False(options.HandleSignals);
        Assert.Equal(TimeSpan.Zero, options.ShutdownDelay);
        Assert.True(logs.Contains("POSIX signals are not handled"), string.Join(Environment.NewLine, logs.Lines));
    }

    [Fact]
    public async Task WithoutTheKit_TheHostHandlesSignals_AsInProduction()
    {
        var logs = new CapturingLoggerProvider();
        await using var factory = Sample(b => b
            .UseSetting("GracefulLifecycle:ShutdownDelay", "00:00:00")
            .UseSetting("Logging:LogLevel:GracefulLifecycle", "Information")
            .ConfigureLogging(l => l.AddProvider(logs)));
        await factory.WaitUntilReadyAsync();

        Assert.True(factory.Services.GetRequiredService<IOptions<GracefulLifecycleOptions>>().Value.HandleSignals);
        Assert.False(logs.Contains("POSIX signals are not handled"));
    }

    [Fact]
    public async Task LeaveAsync_StartsLeaving_AndCompletesOnceTheZeroDelayIsServed()
    {
        await using var factory = Sample().WithGracefulLifecycleTesting();
        await factory.WaitUntilReadyAsync();
        var lifecycle = factory.GetGracefulLifecycle();

        await factory.LeaveAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(LifecyclePhase.Leaving, lifecycle.Phase);
        Assert.True(lifecycle.Leaving.IsCancellationRequested);
    }

    [Fact]
    public async Task WaitUntilReadyAsync_NotReadyInTime_ThrowsTimeoutException_NamingThePhase()
    {
        await using var factory = Sample(b => b.UseSetting("Sample:PreloadDuration", "01:00:00")).WithGracefulLifecycleTesting();

        var failure = await Assert.ThrowsAsync<TimeoutException>(() => factory.WaitUntilReadyAsync(TimeSpan.FromMilliseconds(200)));

        Assert.Contains("phase Preloading", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WaitUntilReadyAsync_AfterAFailedPreload_Throws_InsteadOfWaitingOutItsTimeout()
    {
        await using var factory = Sample(b => b.UseSetting("Sample:PreloadFails", "true")).WithGracefulLifecycleTesting();

        await Assert.ThrowsAsync<InvalidOperationException>(() => factory.WaitUntilReadyAsync(TimeSpan.FromSeconds(20)));
    }

    private static WebApplicationFactory<Program> Sample(Action<IWebHostBuilder>? configure = null) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("Sample:PreloadDuration", "00:00:00");
            b.UseSetting("Logging:LogLevel:Default", "Warning");
            configure?.Invoke(b);
        });
}
