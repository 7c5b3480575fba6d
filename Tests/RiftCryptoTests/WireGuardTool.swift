import Foundation
import Testing

/// Runs the real `wg` from wireguard-tools, to check interoperability with what WireGuard itself computes.
enum WireGuardTool {
    /// The `wg` executable on `PATH`, or nil when wireguard-tools is not installed.
    static let path: String? = {
        let search = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        let directories = search.split(separator: ":")
        return directories.map { "\($0)/wg" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// Why the interoperability tests are skipped when `wg` is missing.
    static let missingReason: Comment = "needs `wg` from wireguard-tools on PATH (apt-get install wireguard-tools)"

    /// Runs `wg <arguments>` with `input` on standard input and returns standard output without the line
    /// ending. Fails when `wg` is missing, exits non-zero, or has not finished within `timeout`.
    static func run(_ arguments: [String], input: String, timeout: Duration = .seconds(10)) throws -> String {
        guard let path else { throw VectorError("wg is not installed") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        try stdin.fileHandleForWriting.write(contentsOf: Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.01) }
        guard !process.isRunning else {
            process.terminate()
            process.waitUntilExit()
            throw VectorError("wg \(arguments.joined(separator: " ")) did not finish within \(timeout)")
        }
        guard process.terminationStatus == 0 else {
            throw VectorError("wg \(arguments.joined(separator: " ")) exited with status \(process.terminationStatus)")
        }
        let output = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return output.trimmingCharacters(in: .newlines)
    }
}
