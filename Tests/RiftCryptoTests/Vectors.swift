import Foundation
import RiftProtocol

/// Reads the golden vectors under `Protocol/vectors` (format: `Protocol/vectors/sealed/README.md`).
enum Vectors {
    /// `Protocol/vectors`, found by walking up from this file to the directory that holds `Package.swift`.
    static let directory: URL = {
        var candidate = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while candidate.path != "/" {
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("Package.swift").path) {
                return candidate.appendingPathComponent("Protocol/vectors")
            }
            candidate.deleteLastPathComponent()
        }
        fatalError("no Package.swift above \(#filePath)")
    }()

    /// The `.json` file names in `subdirectory`, sorted; empty when the directory is missing (a separate
    /// test requires every directory to hold its vectors, so that cannot pass silently).
    static func files(_ subdirectory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent(subdirectory).path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted()
    }

    /// Decodes one vector file; snake_case fields map to camelCase properties.
    static func load<Vector: Decodable>(_ type: Vector.Type, _ subdirectory: String, _ file: String) throws -> Vector {
        let data = try Data(contentsOf: directory.appendingPathComponent(subdirectory).appendingPathComponent(file))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Vector.self, from: data)
    }

    /// Standard base64 from a vector; a malformed vector is a test failure, not a crash.
    static func bytes(_ base64: String) throws -> [UInt8] {
        guard let bytes = Base64.decode(base64) else { throw VectorError("not canonical base64: \(base64)") }
        return bytes
    }
}

/// A vector file that does not hold what its format requires.
struct VectorError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `sealed/*.json`.
struct SealedVector: Decodable {
    struct Relayed: Decodable {
        var type: String
        var from: String
        var box: String
    }
    var description: String
    var senderPrivateKey: String
    var senderPublicKey: String
    var recipientPrivateKey: String
    var recipientPublicKey: String
    var nonce: String
    var payload: String
    var sealedBox: String
    var relayed: Relayed
    var openerPrivateKey: String
    var expect: String
}

/// `proof/*.json`.
struct ProofVector: Decodable {
    struct Verify: Decodable {
        var challengeNonce: String
        var network: String
        var agentPublicKey: String
    }
    var description: String
    var challengeNonce: String
    var hubPrivateKey: String
    var hubPublicKey: String
    var agentPrivateKey: String
    var agentPublicKey: String
    var network: String
    var boxNonce: String
    var statementHex: String
    var proofBox: String
    var verify: Verify
    var expectValid: Bool
}

/// `turn/*.json`.
struct TURNVector: Decodable {
    var secret: String
    var name: String
    var expiresAt: Int64
    var username: String
    var credential: String
}

/// `tokens/*.json`.
struct TokenVector: Decodable {
    var token: String
    var hashHex: String
}

/// `keys/*.json`.
struct KeyVector: Decodable {
    var privateKey: String
    var publicKey: String
}
