using System.Buffers.Binary;
using System.Text;

namespace GracefulLifecycle.Draining;

/// <summary>
/// The server's side of an upgraded WebSocket connection, seen as the byte stream the framework's WebSocket writes
/// its frames to. It follows the outgoing frames so it can tell when the application has sent a close frame, and it
/// can put a close frame of its own (1001, Going Away) between two frames. After that it drops whatever the
/// application still sends: an endpoint sends no data after Close (RFC 6455 §5.5.1), and the application's own
/// close frame is then a duplicate. Reads pass through untouched, so the client's answering close frame reaches the
/// application's receive loop, which ends the request as it would for a client-initiated close.
/// </summary>
/// <param name="inner">The upgraded connection's stream.</param>
/// <param name="closeSent">Told once, when the first close frame goes out, whoever sent it.</param>
internal sealed class TrackedWebSocketStream(Stream inner, Action<TrackedWebSocketStream>? closeSent = null) : Stream
{
    private const byte CloseOpcode = 0x8;
    private static readonly byte[] GoingAway = CloseFrame(1001, "Server shutting down");

    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Lock _gate = new();
    private readonly byte[] _header = new byte[14];
    private int _headerLength;
    private long _payloadLeft;
    private bool _closeSent;
    private bool _closeByServer;
    private bool _closePending;

    /// <summary>Gets a value indicating whether a close frame has been sent, by the application or by the library.</summary>
    public bool CloseSent => Volatile.Read(ref _closeSent);

    /// <summary>Gets a value indicating whether the library sent the close frame (not the application).</summary>
    public bool ClosedByServer => Volatile.Read(ref _closeByServer);

    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>
    /// Sends a 1001 close frame at the next frame boundary, unless a close frame has already been sent or is due.
    /// Never blocks: the frame goes out in the background, after any frame being written.
    /// </summary>
    /// <returns><see langword="true"/> if this call started the close.</returns>
    public bool RequestClose()
    {
        lock (_gate)
        {
            if (_closeSent || _closePending)
            {
                return false;
            }

            _closePending = true;
        }

        _ = Task.Run(SendPendingCloseAsync);
        return true;
    }

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override int Read(Span<byte> buffer) => inner.Read(buffer);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        inner.ReadAsync(buffer, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _writeLock.Wait();
        try
        {
            if (Track(buffer))
            {
                inner.Write(buffer);
            }

            SendPendingCloseLocked();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Track(buffer.Span))
            {
                await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            }

            await SendPendingCloseLockedAsync().ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private static byte[] CloseFrame(ushort status, string reason)
    {
        var text = Encoding.UTF8.GetBytes(reason);
        var frame = new byte[4 + text.Length];
        frame[0] = 0x80 | CloseOpcode; // FIN + Close; a server's frames are never masked
        frame[1] = (byte)(2 + text.Length);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), status);
        text.CopyTo(frame, 4);
        return frame;
    }

    private async Task SendPendingCloseAsync()
    {
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            await SendPendingCloseLockedAsync().ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Sends the pending close frame if the stream is at a frame boundary; the write lock is held.</summary>
    private async ValueTask SendPendingCloseLockedAsync()
    {
        if (!TakePendingClose())
        {
            return;
        }

        closeSent?.Invoke(this);

        try
        {
            // Kestrel's upgraded stream allows no synchronous writes.
            await inner.WriteAsync(GoingAway).ConfigureAwait(false);
            await inner.FlushAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            // The connection is already gone.
        }
    }

    /// <summary>Sends the pending close frame if the stream is at a frame boundary; the write lock is held.</summary>
    private void SendPendingCloseLocked()
    {
        if (!TakePendingClose())
        {
            return;
        }

        closeSent?.Invoke(this);

        try
        {
            inner.Write(GoingAway);
            inner.Flush();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            // The connection is already gone.
        }
    }

    /// <summary>Claims the pending close if the stream is at a frame boundary: from then on the application's frames are dropped.</summary>
    private bool TakePendingClose()
    {
        lock (_gate)
        {
            if (!_closePending || _closeSent || _headerLength > 0 || _payloadLeft > 0)
            {
                // Not due, already sent by the application, or mid-frame: the write completing the frame sends it.
                _closePending &= !_closeSent;
                return false;
            }

            _closePending = false;
            _closeSent = true;
            _closeByServer = true;
            return true;
        }
    }

    /// <summary>Follows the frames in an outgoing buffer; returns whether the buffer may still be sent.</summary>
    private bool Track(ReadOnlySpan<byte> buffer)
    {
        var closedByApplication = false;
        var send = TrackLocked(buffer, ref closedByApplication);
        if (closedByApplication)
        {
            closeSent?.Invoke(this);
        }

        return send;
    }

    private bool TrackLocked(ReadOnlySpan<byte> buffer, ref bool closedByApplication)
    {
        lock (_gate)
        {
            var send = !_closeByServer;
            while (!buffer.IsEmpty)
            {
                if (_payloadLeft > 0)
                {
                    var skip = (int)Math.Min(_payloadLeft, buffer.Length);
                    _payloadLeft -= skip;
                    buffer = buffer[skip..];
                    continue;
                }

                _header[_headerLength++] = buffer[0];
                buffer = buffer[1..];
                if (_headerLength < 2)
                {
                    continue;
                }

                var length = _header[1] & 0x7F;
                var needed = 2 + (length == 126 ? 2 : length == 127 ? 8 : 0) + ((_header[1] & 0x80) != 0 ? 4 : 0);
                if (_headerLength < needed)
                {
                    continue;
                }

                if ((_header[0] & 0x0F) == CloseOpcode)
                {
                    // The application closes the connection itself: nothing left for the library to do but to bound
                    // the wait for the client's answer (a frame dropped after the library's own close is no news).
                    closedByApplication |= send && !_closeSent;
                    _closeSent = true;
                }

                _payloadLeft = length switch
                {
                    126 => BinaryPrimitives.ReadUInt16BigEndian(_header.AsSpan(2)),
                    127 => (long)BinaryPrimitives.ReadUInt64BigEndian(_header.AsSpan(2)),
                    _ => length,
                };
                _headerLength = 0;
            }

            return send;
        }
    }
}
