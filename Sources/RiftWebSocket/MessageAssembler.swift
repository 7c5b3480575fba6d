/// Turns the payload pieces libwebsockets delivers into whole text messages, enforcing the
/// message size limit before buffering anything, and the frame limit.
///
/// lws calls back once per frame, and again for every further read of a frame that spans several TCP segments or is
/// larger than the receive buffer; `remainingInFrame` (`lws_remaining_packet_payload`) is zero on the piece that ends
/// its frame, so the piece after it starts the next frame. (`lws_is_first_fragment` cannot tell: it is true on the
/// first piece of a *message* only.) The frame limit counts frames, not pieces: RFC 6455 lets a frame arrive in any
/// number of segments, while endless empty continuation frames must still be cut off.
///
/// A message that arrives in one piece is decoded straight from lws' buffer; only a message
/// spanning several pieces is copied into a buffer, which is released as soon as the message is complete.
struct MessageAssembler {
    /// What a piece of payload completed.
    enum Outcome: Equatable {
        /// The message continues in later pieces.
        case incomplete
        /// A whole text message.
        case message(String)
        /// The message is larger than the limit; it is being discarded (reported once).
        case oversized
        /// The message is binary, which riftgate does not use; it is being discarded (reported once).
        case binary
        /// The message came in more frames than `maximumFrames` (e.g. endless empty continuation frames, which
        /// count toward no size limit); it is being discarded (reported once).
        case tooFragmented
    }

    /// The largest message accepted, all fragments together.
    let maximumBytes: Int
    /// The most frames one message may come in (however many reads each frame takes).
    let maximumFrames: Int
    private var frames = 0
    /// True when the next piece starts a frame: the previous one ended its frame (or nothing came yet).
    private(set) var nextPieceStartsFrame = true

    private var buffer: [UInt8] = []
    /// True after `.oversized` or `.binary` until the rejected message's last piece has passed.
    private var discarding = false

    /// Whether the pieces of a rejected message are still being discarded (its final piece has not arrived).
    var isDiscarding: Bool { discarding }

    init(maximumBytes: Int, maximumFrames: Int = 256) {
        self.maximumBytes = maximumBytes
        self.maximumFrames = maximumFrames
    }

    /// Adds one piece of payload.
    ///
    /// - Parameters:
    ///   - bytes: The payload piece.
    ///   - isFinal: True for the last piece of the last frame of the message.
    ///   - isBinary: True when the message is binary.
    ///   - remainingInFrame: Bytes of the current frame still to come, known from its header (0 when this piece ends
    ///     its frame); lets a too-large frame be refused before its payload is buffered, and marks frame boundaries.
    mutating func receive<Bytes: Collection<UInt8>>(
        _ bytes: Bytes, isFinal: Bool, isBinary: Bool, remainingInFrame: Int
    ) -> Outcome {
        let startsFrame = nextPieceStartsFrame
        nextPieceStartsFrame = remainingInFrame <= 0
        if discarding {
            if isFinal { discarding = false }
            return .incomplete
        }
        if startsFrame { frames += 1 }
        let rejection: Outcome?
        if isBinary {
            rejection = .binary
        } else if buffer.count + bytes.count + max(remainingInFrame, 0) > maximumBytes {
            rejection = .oversized
        } else if frames > maximumFrames {
            rejection = .tooFragmented
        } else {
            rejection = nil
        }
        if isFinal || rejection != nil { frames = 0 }
        if let rejection {
            buffer = []
            discarding = !isFinal
            return rejection
        }
        if isFinal && buffer.isEmpty {
            return .message(String(decoding: bytes, as: UTF8.self))
        }
        buffer.append(contentsOf: bytes)
        guard isFinal else { return .incomplete }
        let text = String(decoding: buffer, as: UTF8.self)
        buffer = []
        return .message(text)
    }
}
