using System.Net.WebSockets;
using GracefulLifecycle.Draining;

namespace GracefulLifecycle.Tests.Draining;

/// <summary>
/// The frame follower under every accepted WebSocket: the library's close frame goes out only between two frames,
/// never twice, never after the application's own, and nothing the application sends after it reaches the wire.
/// Driven by the framework's own WebSocket over an in-memory stream, so the frames are the real ones.
/// </summary>
public sealed class TrackedWebSocketStreamTests
{
    [Fact]
    public async Task RequestClose_BetweenFrames_SendsOne1001Frame_AndDropsWhatTheAppSendsAfter()
    {
        var wire = new MemoryStream();
        var stream = new TrackedWebSocketStream(wire);
        using var server = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = Timeout.InfiniteTimeSpan });
        await server.SendAsync("before"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);

        Assert.True(stream.RequestClose());
        Assert.False(stream.RequestClose());
        await WaitForAsync(() => stream.CloseSent);
        await server.SendAsync("after"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);

        var frames = ReadFrames(wire.ToArray());
        Assert.Equal(2, frames.Count);
        Assert.Equal((0x1, "before"), (frames[0].Opcode, System.Text.Encoding.UTF8.GetString(frames[0].Payload)));
        Assert.Equal(0x8, frames[1].Opcode);
        Assert.Equal(1001, (frames[1].Payload[0] << 8) | frames[1].Payload[1]);
    }

    [Fact]
    public async Task RequestClose_AfterTheAppClosed_SendsNothing()
    {
        var wire = new MemoryStream();
        var stream = new TrackedWebSocketStream(wire);
        using var server = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = Timeout.InfiniteTimeSpan });
        await server.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);

        Assert.True(stream.CloseSent);
        Assert.False(stream.RequestClose());

        var frames = ReadFrames(wire.ToArray());
        var close = Assert.Single(frames);
        Assert.Equal(1000, (close.Payload[0] << 8) | close.Payload[1]);
    }

    [Fact]
    public async Task RequestClose_InTheMiddleOfAFrameWrittenInPieces_WaitsForTheFrameToEnd()
    {
        var wire = new MemoryStream();
        var stream = new TrackedWebSocketStream(wire);

        // A 300-byte frame (16-bit length) written as header, then the payload in two parts.
        byte[] header = [0x82, 126, 0x01, 0x2C];
        await stream.WriteAsync(header);
        await stream.WriteAsync(new byte[100]);
        Assert.True(stream.RequestClose());

        // Whenever the background attempt runs, it finds the frame unfinished and leaves the close to the write that ends it.
        await stream.WriteAsync(new byte[200]);

        Assert.True(stream.CloseSent);
        var frames = ReadFrames(wire.ToArray());
        Assert.Equal([0x2, 0x8], frames.Select(f => f.Opcode));
        Assert.Equal(300, frames[0].Payload.Length);
    }

    [Fact]
    public async Task RequestClose_WhileTheAppSendsLargeAndSmallFrames_LeavesEveryFrameWholeAndTheCloseLast()
    {
        for (var round = 0; round < 20; round++)
        {
            var wire = new MemoryStream();
            var stream = new TrackedWebSocketStream(wire);
            using var server = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = Timeout.InfiniteTimeSpan });
            var sizes = new[] { 10, 300, 70_000 };
            var sender = Task.Run(async () =>
            {
                for (var i = 0; i < 30 && server.State == WebSocketState.Open; i++)
                {
                    await server.SendAsync(new byte[sizes[i % sizes.Length]], WebSocketMessageType.Binary, true, CancellationToken.None);
                }
            });

            Assert.True(stream.RequestClose());
            await sender;
            await WaitForAsync(() => stream.CloseSent);

            var frames = ReadFrames(wire.ToArray());
            Assert.Equal(0x8, frames[^1].Opcode);
            Assert.All(frames[..^1], f => Assert.Contains(f.Payload.Length, sizes));
        }
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            await Task.Delay(5);
        }
    }

    private static List<(int Opcode, byte[] Payload)> ReadFrames(byte[] bytes)
    {
        var frames = new List<(int, byte[])>();
        var i = 0;
        while (i < bytes.Length)
        {
            var opcode = bytes[i] & 0x0F;
            long length = bytes[i + 1] & 0x7F;
            i += 2;
            if (length == 126)
            {
                length = (bytes[i] << 8) | bytes[i + 1];
                i += 2;
            }
            else if (length == 127)
            {
                length = (long)System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(i));
                i += 8;
            }

            frames.Add((opcode, bytes[i..(i + (int)length)]));
            i += (int)length;
        }

        return frames;
    }
}
