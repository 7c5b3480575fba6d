import Testing

/// Every test that opens sockets runs under this suite, one at a time: they measure timeouts
/// and heartbeats, which must not compete for the two CPUs of a CI machine.
@Suite("RiftWebSocket over 127.0.0.1", .serialized)
struct LoopbackTests {}
