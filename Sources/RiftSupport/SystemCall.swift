internal import CRiftLinux
import Glibc

/// A failed system call: the C function's name and its `errno`.
public struct SystemCallError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The C function that failed, e.g. `"accept4"`.
    public var function: String
    /// Its `errno`.
    public var code: Int32

    /// Creates an error from a function name and an `errno` value.
    public init(_ function: String, code: Int32) {
        self.function = function
        self.code = code
    }

    /// The error from the `errno` the failed call just left (read it before anything else can change it).
    public static func last(_ function: String) -> SystemCallError { SystemCallError(function, code: errno) }

    /// The system's text for `code` ("Address already in use"): the one place an `errno` becomes words.
    public static func reason(for code: Int32) -> String { String(cString: strerror(code)) }

    /// The system's text for this error's code, without the function name.
    public var reason: String { Self.reason(for: code) }

    public var description: String { "\(function): \(reason)" }
}

/// One place where system calls are retried on `EINTR` and their `errno` turned into a typed error, in the spirit of
/// swift-system's `valueOrErrno(retryOnInterrupt:)`.
public enum SystemCall {
    /// Runs `call` (named `function` in errors) until it does not fail with `EINTR`; a negative result throws with
    /// `errno`.
    @discardableResult
    public static func retrying<Result: BinaryInteger>(_ function: String, _ call: () -> Result) throws(SystemCallError) -> Result {
        while true {
            let result = call()
            if result >= 0 { return result }
            let code = errno
            if code != EINTR { throw SystemCallError(function, code: code) }
        }
    }

    /// Runs `call` once (for calls that must not be repeated after `EINTR`, such as `connect`, whose connection goes
    /// on in the background); a negative result throws with `errno`.
    @discardableResult
    public static func once<Result: BinaryInteger>(_ function: String, _ call: () -> Result) throws(SystemCallError) -> Result {
        let result = call()
        guard result >= 0 else { throw SystemCallError.last(function) }
        return result
    }

    /// Writes all of `bytes` to `descriptor`, through short writes and `EINTR`.
    public static func writeAll(_ descriptor: Int32, _ bytes: some Collection<UInt8>) throws(SystemCallError) {
        try transferAll(bytes, "write") { pointer, count in Glibc.write(descriptor, pointer, count) }
    }

    /// Sends all of `bytes` on the connected socket `descriptor`, through short writes and `EINTR`, with
    /// `MSG_NOSIGNAL`: a peer that went away is an `EPIPE` error, never a `SIGPIPE` that kills the process.
    public static func sendAll(_ descriptor: Int32, _ bytes: some Collection<UInt8>) throws(SystemCallError) {
        try transferAll(bytes, "send") { pointer, count in Glibc.send(descriptor, pointer, count, Int32(MSG_NOSIGNAL)) }
    }

    private static func transferAll(_ bytes: some Collection<UInt8>, _ function: String,
                                    _ call: (UnsafeRawPointer, Int) -> Int) throws(SystemCallError) {
        let buffer = Array(bytes)
        var offset = 0
        while offset < buffer.count {
            let done = try retrying(function) {
                buffer.withUnsafeBytes { raw in call(raw.baseAddress! + offset, raw.count - offset) }
            }
            offset += done
        }
    }
}
