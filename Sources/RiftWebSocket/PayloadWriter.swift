internal import CRiftWebSockets

/// Writes WebSocket messages and HTTP bodies on a service thread, following lws' rules: `LWS_PRE` bytes of
/// headroom before each payload, and no further write while lws holds part of an earlier one (it buffers a partial
/// write itself). Queued messages are written from a WRITEABLE callback; a server writes a message at once when
/// nothing is queued before it (`ServerEventLoop.writeAtOnce`).
final class PayloadWriter {
    /// Reused for every write; grows to the largest payload (bounded by the queue byte limit).
    private var buffer: [UInt8] = []

    /// What a WRITEABLE callback should return.
    enum FlushResult {
        /// Keep the connection (more is scheduled if anything is left): return 0.
        case keepOpen
        /// The close frame is set; return -1 so that lws sends it and closes.
        case close
        /// Writing failed; return -1.
        case failed

        /// The value the lws callback returns.
        var callbackResult: Int32 {
            if case .keepOpen = self { return 0 }
            return -1
        }
    }

    /// Writes messages from `queue` while the socket takes them (at most 32, for fairness
    /// between connections), then, once the queue is empty and flushed, the pending close.
    func flush(_ queue: inout OutboundQueue, thenClose pendingClose: CloseFrame?, on wsi: OpaquePointer) -> FlushResult {
        var written = 0
        while let text = queue.first {
            if written > 0 && (written >= 32 || lws_send_pipe_choked(wsi) != 0) {
                lws_callback_on_writable(wsi)
                return .keepOpen
            }
            guard write(text, to: wsi, as: LWS_WRITE_TEXT) else { return .failed }
            _ = queue.popFirst()
            written += 1
        }
        guard let pendingClose else { return .keepOpen }
        if written > 0 && lws_send_pipe_choked(wsi) != 0 {
            lws_callback_on_writable(wsi)
            return .keepOpen
        }
        Self.setCloseFrame(pendingClose, on: wsi)
        return .close
    }

    /// Writes one payload; false when the connection failed.
    func write(_ text: String, to wsi: OpaquePointer, as kind: lws_write_protocol) -> Bool {
        var text = text
        return text.withUTF8 { payload in
            let headroom = CRiftWebSockets_pre()
            if buffer.count < headroom + payload.count {
                buffer = [UInt8](repeating: 0, count: headroom + payload.count)
            }
            return buffer.withUnsafeMutableBufferPointer { storage in
                let start = storage.baseAddress! + headroom
                if let source = payload.baseAddress, payload.count > 0 {
                    start.update(from: source, count: payload.count)
                }
                return lws_write(wsi, start, payload.count, kind) >= 0
            }
        }
    }

    /// Stores `frame` as the close frame lws sends when the current callback returns -1.
    static func setCloseFrame(_ frame: CloseFrame, on wsi: OpaquePointer) {
        var reason = frame.reason
        reason.withUTF8 { bytes in
            lws_close_reason(
                wsi, lws_close_status(UInt32(frame.code)), UnsafeMutablePointer(mutating: bytes.baseAddress), bytes.count)
        }
    }
}
