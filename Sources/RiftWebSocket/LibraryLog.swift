internal import CRiftWebSockets
import RiftSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// libwebsockets' process-wide log (errors and warnings only; lws never logs header values at
/// these levels).
///
/// A thread can capture what lws logs on it (`capturingErrors`, `startCapturing`): a failed
/// context creation or client connection then reports lws' own explanation in its error instead
/// of printing it. Everything else goes to `WebSocketLibraryLog`'s handler, by default standard
/// error with a `libwebsockets:` prefix.
enum LibraryLog {
    /// The most lines kept per capturing thread (the latest ones).
    static let capturedLineLimit = 32

    /// Installs the log routing once per process; later calls do nothing.
    static func install() {
        _ = installation
    }

    /// Runs `body`, returning its result and the lws lines logged on this thread meanwhile.
    static func capturingErrors<Result>(_ body: () -> Result) -> (Result, [String]) {
        startCapturing()
        let result = body()
        return (result, stopCapturing())
    }

    /// Starts keeping what lws logs on the calling thread instead of passing it on.
    static func startCapturing() {
        install()
        let thread = pthread_self()
        captures.withLock { $0[thread] = [] }
    }

    /// The lines captured on the calling thread so far.
    static func capturedLines() -> [String] {
        let thread = pthread_self()
        return captures.withLock { $0[thread] } ?? []
    }

    /// Stops capturing on the calling thread, returning the captured lines.
    @discardableResult
    static func stopCapturing() -> [String] {
        let thread = pthread_self()
        return captures.withLock { $0.removeValue(forKey: thread) } ?? []
    }

    private static let installation: Void = {
        lws_set_log_level(Int32(LLL_ERR | LLL_WARN), emitLibraryLogLine)
    }()
}

/// Where lines no thread captures go; nil means standard error.
let libraryLogHandler = Locked<(@Sendable (WebSocketLibraryLog.Level, String) -> Void)?>(nil)

/// Lines kept per capturing thread.
private let captures = Locked<[pthread_t: [String]]>([:])

/// lws' log sink: runs on whichever thread logged, so it only takes short locks.
private func emitLibraryLogLine(_ level: Int32, _ line: UnsafePointer<CChar>?) {
    guard let line else { return }
    var text = String(cString: line)
    while text.last?.isWhitespace == true { text.removeLast() }
    let thread = pthread_self()
    let captured = captures.withLock { all -> Bool in
        guard var lines = all[thread] else { return false }
        lines.append(text)
        if lines.count > LibraryLog.capturedLineLimit { lines.removeFirst() }
        all[thread] = lines
        return true
    }
    guard !captured else { return }
    let severity: WebSocketLibraryLog.Level = level & Int32(LLL_ERR) != 0 ? .error : .warning
    if let handler = libraryLogHandler.withLock({ $0 }) {
        handler(severity, text)
    } else {
        var message = "libwebsockets: \(text)\n"
        message.withUTF8 { bytes in _ = write(STDERR_FILENO, bytes.baseAddress, bytes.count) }
    }
}
