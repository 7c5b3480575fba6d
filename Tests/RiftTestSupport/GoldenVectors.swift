import Foundation
import RiftProtocol

/// Reads the language-neutral golden vectors in `Protocol/vectors` for the Swift test suites.
public enum GoldenVectors {
    /// The repository's root, found from this file's location.
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The directory `Protocol/vectors/<name>`.
    public static func directory(_ name: String) -> URL {
        repositoryRoot.appendingPathComponent("Protocol/vectors").appendingPathComponent(name)
    }

    /// Every `*.json` file in `Protocol/vectors/<name>`, sorted by file name, parsed as `JSONValue`.
    /// Fails the caller (throws) when the directory is missing or a file is not valid JSON.
    public static func load(_ name: String) throws -> [(name: String, value: JSONValue)] {
        let folder = directory(name)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasSuffix(".json") }.sorted()
        return try files.map { file in
            let data = try Data(contentsOf: folder.appendingPathComponent(file))
            return (String(file.dropLast(5)), try JSONParser.parse(Array(data)))
        }
    }
}

extension JSONValue {
    /// The member `key` of an object, or nil.
    public subscript(key: String) -> JSONValue? {
        if case .object(let fields) = self { return fields[key] }
        return nil
    }

    /// The string payload, or nil.
    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }
}
