#include "CRiftFrameParser.h"

#include <string.h>

/* Where the parser is in the stream. HTTP_HEADERS must stay 0: a zeroed stream is a fresh connection. */
enum CRiftFrameParser_phase {
    PHASE_HTTP_HEADERS = 0,
    PHASE_FRAME_FIRST_BYTE,   /* FIN, RSV, opcode */
    PHASE_FRAME_SECOND_BYTE,  /* mask bit, 7-bit length */
    PHASE_FRAME_LENGTH,       /* 2 or 8 bytes of extended length */
    PHASE_FRAME_SKIP,         /* masking key and payload */
    PHASE_STOPPED,            /* an unmasked frame was seen */
};

static const char upgrade_header[] = "upgrade:";
enum { UPGRADE_HEADER_LENGTH = sizeof(upgrade_header) - 1 };

void CRiftFrameParser_reset(CRiftFrameParser_stream *stream) { memset(stream, 0, sizeof *stream); }

int CRiftFrameParser_reads_frames(const CRiftFrameParser_stream *stream) {
    return stream->phase != PHASE_HTTP_HEADERS;
}

/* One byte of an HTTP request's head. Carriage returns are ignored: a line ends at its line feed, and an empty line
 * ends the head. A request whose head had an Upgrade header is followed by frames (libwebsockets upgrades it or closes
 * the connection); any other request may be followed by another request on the same connection. */
static void http_byte(CRiftFrameParser_stream *stream, uint8_t byte) {
    if (byte == '\r') return;
    if (byte == '\n') {
        if (stream->line_length == 0) {
            stream->phase = stream->request_upgrades ? PHASE_FRAME_FIRST_BYTE : PHASE_HTTP_HEADERS;
            stream->request_upgrades = 0;
        }
        stream->line_length = 0;
        stream->upgrade_matched = 0;
        return;
    }
    uint8_t lower = (byte >= 'A' && byte <= 'Z') ? (uint8_t)(byte + ('a' - 'A')) : byte;
    if (stream->upgrade_matched == stream->line_length && stream->line_length < UPGRADE_HEADER_LENGTH &&
        lower == (uint8_t)upgrade_header[stream->line_length]) {
        stream->upgrade_matched++;
        if (stream->upgrade_matched == UPGRADE_HEADER_LENGTH) stream->request_upgrades = 1;
    }
    if (stream->line_length < UINT8_MAX) stream->line_length++;
}

/* The header is complete up to its length: skip the masking key and the payload, or go to the next frame. */
static void frame_header_done(CRiftFrameParser_stream *stream, uint64_t payload_length) {
    /* A length with bit 63 set is refused by libwebsockets itself; saturate rather than wrap around. */
    uint64_t key_length = stream->masked ? 4 : 0;
    stream->skip = payload_length > UINT64_MAX - key_length ? UINT64_MAX : payload_length + key_length;
    stream->phase = stream->skip ? PHASE_FRAME_SKIP : PHASE_FRAME_FIRST_BYTE;
}

int CRiftFrameParser_feed(CRiftFrameParser_stream *stream, const uint8_t *bytes, size_t count) {
    size_t index = 0;
    while (index < count) {
        switch (stream->phase) {
        case PHASE_HTTP_HEADERS:
            http_byte(stream, bytes[index++]);
            break;
        case PHASE_FRAME_FIRST_BYTE:
            if (bytes[index++] & 0x08) stream->control_frames++;  /* opcodes 0x8-0xF are control frames */
            stream->phase = PHASE_FRAME_SECOND_BYTE;
            break;
        case PHASE_FRAME_SECOND_BYTE: {
            uint8_t byte = bytes[index++];
            stream->masked = (byte & 0x80) != 0;
            if (!stream->masked) {
                stream->saw_unmasked_frame = 1;
                stream->phase = PHASE_STOPPED;
                return 1;
            }
            uint8_t length = byte & 0x7f;
            if (length < 126) {
                frame_header_done(stream, length);
            } else {
                stream->length = 0;
                stream->length_bytes = length == 126 ? 2 : 8;
                stream->phase = PHASE_FRAME_LENGTH;
            }
            break;
        }
        case PHASE_FRAME_LENGTH:
            stream->length = (stream->length << 8) | bytes[index++];
            if (--stream->length_bytes == 0) frame_header_done(stream, stream->length);
            break;
        case PHASE_FRAME_SKIP: {
            size_t available = count - index;
            if (stream->skip > available) {
                stream->skip -= available;
                index = count;
            } else {
                index += (size_t)stream->skip;
                stream->skip = 0;
                stream->phase = PHASE_FRAME_FIRST_BYTE;
            }
            break;
        }
        default: /* PHASE_STOPPED */
            return 1;
        }
    }
    return stream->saw_unmasked_frame;
}
