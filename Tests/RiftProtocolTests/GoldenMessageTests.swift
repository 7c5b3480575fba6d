import RiftProtocol
import RiftTestSupport
import Testing

/// Every frame in `Protocol/vectors/messages` decodes to what the spec says, or fails with the specified code.
@Suite("Golden message vectors")
struct GoldenMessageTests {
    static let vectors: [(name: String, value: JSONValue)] = (try? GoldenVectors.load("messages")) ?? []

    @Test("the vector directory is present and non-trivial")
    func vectorsExist() {
        #expect(Self.vectors.count >= 40)
    }

    @Test("each vector decodes as specified", arguments: vectors.map(\.name))
    func vector(_ name: String) throws {
        let vector = try #require(Self.vectors.first { $0.name == name }?.value)
        let frame = try #require(vector["frame"]?.stringValue)
        let direction = try #require(vector["direction"]?.stringValue)
        let expect = try #require(vector["expect"])
        let result: Result<JSONValue, ProtocolError>
        do {
            result = .success(direction == "client" ? try ClientMessage.decode(frame).json : try HubMessage.decode(frame).json)
        } catch {
            result = .failure(error)
        }
        switch (result, expect["ok"], expect["error"]?.stringValue) {
        case (.success(let decoded), let expected?, nil):
            #expect(decoded == expected, "re-encoded value differs")
        case (.failure(let error), nil, let code?):
            #expect(error.code.rawValue == code, "got \(error)")
        case (.success, nil, let code?):
            Issue.record("decoded, but the vector expects error \(code)")
        case (.failure(let error), _?, nil):
            Issue.record("expected success, got \(error)")
        default:
            Issue.record("vector has neither expect.ok nor expect.error")
        }
    }
}

/// Every plaintext in `Protocol/vectors/payloads` decodes with `SignalPayload.decode` to what the spec says, or fails
/// with the specified code.
@Suite("Golden payload vectors")
struct GoldenPayloadTests {
    static let vectors: [(name: String, value: JSONValue)] = (try? GoldenVectors.load("payloads")) ?? []

    @Test("the vector directory is present and non-trivial")
    func vectorsExist() {
        #expect(Self.vectors.count >= 20)
    }

    @Test("each payload decodes as specified", arguments: vectors.map(\.name))
    func vector(_ name: String) throws {
        let vector = try #require(Self.vectors.first { $0.name == name }?.value)
        let text = try #require(vector["payload"]?.stringValue)
        let expect = try #require(vector["expect"])
        let result: Result<JSONValue, ProtocolError>
        do { result = .success(try SignalPayload.decode(Array(text.utf8)).json) } catch { result = .failure(error) }
        switch (result, expect["ok"], expect["error"]?.stringValue) {
        case (.success(let decoded), let expected?, nil):
            #expect(decoded == expected, "re-encoded value differs")
        case (.failure(let error), nil, let code?):
            #expect(error.code.rawValue == code, "got \(error)")
        case (.success, nil, let code?):
            Issue.record("decoded, but the vector expects error \(code)")
        case (.failure(let error), _?, nil):
            Issue.record("expected success, got \(error)")
        default:
            Issue.record("vector has neither expect.ok nor expect.error")
        }
    }
}
