import Glibc

extension SystemCall {
    /// Every byte of the file at `path`, read until end of file. Files the kernel generates (`/proc`, `/sys`) report
    /// a size of 0 and hand out their text a page or so per `read`, so a reader that trusts the size, or stops after
    /// one read, gets only the start of a long one (Foundation's `String(contentsOfFile:)` returns the first 4 KiB of
    /// `/proc/self/smaps`). Throws the failing call's error.
    public static func readWholeFile(_ path: String) throws(SystemCallError) -> [UInt8] {
        let file = OwnedDescriptor(try retrying("open") { open(path, O_RDONLY | O_CLOEXEC) })
        defer { file.close() }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = try read(file.rawValue, into: &buffer)
            if count == 0 { return bytes }
            bytes += buffer[..<count]
        }
    }
}
