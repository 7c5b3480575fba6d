#ifndef CRIFT_FRAME_PARSER_H
#define CRIFT_FRAME_PARSER_H

#include <stddef.h>
#include <stdint.h>

/* Follows the bytes a WebSocket server reads from one client connection, as they arrive, and notes whether the client
 * sent a frame without the mask bit (RFC 6455 §5.1: the server must then close the connection with 1002), and how
 * many control frames (ping, pong, close: libwebsockets answers them without a callback, so the server cannot count
 * them itself) it sent.
 *
 * Why: libwebsockets 4.1 parses the mask bit and never checks it, and hands the payload to its callbacks already
 * unmasked; this parser runs beside it on the same bytes (see CRiftFrameGuard). It knows just enough of the stream:
 * HTTP requests (a keep-alive connection may send several) until the end of the headers of one that carries an
 * `Upgrade:` header, then frame headers (the mask bit, 7-, 16- and 64-bit lengths), skipping masking keys and payloads.
 * It never copies or allocates; its whole state is this struct, so it can be fed any split of the stream. */
typedef struct CRiftFrameParser_stream {
    /* How many payload (or masking-key) bytes to skip before the next frame header. */
    uint64_t skip;
    /* Accumulates a 16- or 64-bit extended payload length. */
    uint64_t length;
    /* Control frames (opcode 0x8-0xF) whose header has begun, wrapping around at 2^32 (readers take differences). */
    uint32_t control_frames;
    /* CRiftFrameParser_phase. */
    uint8_t phase;
    /* HTTP phase: bytes of the current header line so far (saturating), and how many of them match "upgrade:". */
    uint8_t line_length;
    uint8_t upgrade_matched;
    /* HTTP phase: the current request carries an Upgrade header. */
    uint8_t request_upgrades;
    /* Frame phase: extended length bytes still to read, and whether the current frame is masked. */
    uint8_t length_bytes;
    uint8_t masked;
    /* Set once an unmasked frame was seen; the parser stops there (the connection is to be closed). */
    uint8_t saw_unmasked_frame;
} CRiftFrameParser_stream;

/* A connection that has sent nothing yet (an HTTP request comes first). Zeroed memory is the same state. */
void CRiftFrameParser_reset(CRiftFrameParser_stream *stream);

/* Feeds the next `count` bytes read from the connection. Returns 1 when an unmasked frame has been seen (in these
 * bytes or before), 0 otherwise. */
int CRiftFrameParser_feed(CRiftFrameParser_stream *stream, const uint8_t *bytes, size_t count);

/* Whether the stream is past the HTTP upgrade, reading frames (for tests and diagnostics). */
int CRiftFrameParser_reads_frames(const CRiftFrameParser_stream *stream);

#endif
