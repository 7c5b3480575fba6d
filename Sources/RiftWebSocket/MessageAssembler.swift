/// Turns the payload pieces libwebsockets delivers into whole text messages, enforcing the
/// message size limit before buffering anything.
///
/// A message that arrives in one piece is decoded straight from lws' buffer; only a message
/// spanning several pieces (several frames, or one frame larger than the receive buffer) is
/// copied into a buffer, which is released as soon as the message is complete.
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
        /// The message came in more pieces than `maximumPieces` (e.g. endless empty continuation frames, which
        /// count toward no size limit); it is being discarded (reported once).
        case tooFragmented
    }

    /// The largest message accepted, all fragments together.
    let maximumBytes: Int
    /// The most pieces (frames, or parts of a frame larger than the receive buffer) one message may come in.
    let maximumPieces: Int
    private var pieces = 0

    private var buffer: [UInt8] = []
    /// True after `.oversized` or `.binary` until the rejected message's last piece has passed.
    private var discarding = false

    /// Whether the pieces of a rejected message are still being discarded (its final piece has not arrived).
    var isDiscarding: Bool { discarding }

    init(maximumBytes: Int, maximumPieces: Int = 256) {
        self.maximumBytes = maximumBytes
        self.maximumPieces = maximumPieces
    }

    /// Adds one piece of payload.
    ///
    /// - Parameters:
    ///   - bytes: The payload piece.
    ///   - isFinal: True for the last piece of the last frame of the message.
    ///   - isBinary: True when the message is binary.
    ///   - remainingInFrame: Bytes of the current frame still to come, known from its header;
    ///     lets a too-large frame be refused before its payload is buffered.
    mutating func receive<Bytes: Collection<UInt8>>(
        _ bytes: Bytes, isFinal: Bool, isBinary: Bool, remainingInFrame: Int
    ) -> Outcome {
        if discarding {
            if isFinal { discarding = false }
            return .incomplete
        }
        pieces += 1
        let rejection: Outcome?
        if isBinary {
            rejection = .binary
        } else if buffer.count + bytes.count + max(remainingInFrame, 0) > maximumBytes {
            rejection = .oversized
        } else if pieces > maximumPieces {
            rejection = .tooFragmented
        } else {
            rejection = nil
        }
        if isFinal || rejection != nil { pieces = 0 }
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
