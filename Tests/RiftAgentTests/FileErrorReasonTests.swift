import Foundation
@testable import RiftAgent
import Testing

/// The configuration errors name the system's reason without Foundation's `localizedDescription` (which linked all of
/// Foundation into the agent).
@Suite("FileErrorReason: why a file could not be read, in the system's words")
struct FileErrorReasonTests {
    @Test("a missing configuration file says no such file and what to run")
    func missingConfiguration() {
        let path = NSTemporaryDirectory() + "riftgate-missing-\(UUID().uuidString)/riftgate.toml"
        do {
            _ = try AgentConfiguration.load(path: path)
            Issue.record("loading \(path) succeeded")
        } catch {
            #expect(error.description == "configuration: cannot read \(path): No such file or directory. Run `riftgate init` first.")
        }
    }

    @Test("a directory where a file belongs, and an unreadable file, are told apart")
    func otherReasons() throws {
        let directory = NSTemporaryDirectory() + "riftgate-reason-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(throws: (any Error).self) { _ = try String(contentsOfFile: directory, encoding: .utf8) }
        do { _ = try String(contentsOfFile: directory, encoding: .utf8) } catch {
            #expect(FileErrorReason.text(error) == "Is a directory")
        }
        let binary = directory + "/latin1.toml"
        try Data([0x6e, 0x61, 0x6d, 0x65, 0xe9, 0xff]).write(to: URL(fileURLWithPath: binary))
        do { _ = try String(contentsOfFile: binary, encoding: .utf8) } catch {
            #expect(FileErrorReason.text(error) == "not UTF-8 text")
        }
    }
}
