#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// C memory that libwebsockets keeps pointing into for a context's whole life (strings, the
/// protocol table, the heartbeat policy), freed together when the owner goes away.
///
/// lws stores many `lws_context_creation_info` pointers instead of copying what they point to,
/// so this memory must outlive the `lws_context`; `LWSContext` frees it only after destroying it.
final class CAllocations {
    private var blocks: [UnsafeMutableRawPointer] = []

    /// A NUL-terminated copy of `text`.
    func string(_ text: String) -> UnsafeMutablePointer<CChar> {
        let copy = strdup(text)!
        blocks.append(UnsafeMutableRawPointer(copy))
        return copy
    }

    /// A NUL-terminated copy of `text`, or nil for nil.
    func string(_ text: String?) -> UnsafeMutablePointer<CChar>? {
        text.map { string($0) }
    }

    /// Uninitialised-then-zeroed storage for `count` values of a C struct type.
    func zeroed<Element>(_ type: Element.Type, count: Int = 1) -> UnsafeMutablePointer<Element> {
        let bytes = MemoryLayout<Element>.stride * count
        let raw = calloc(1, bytes)!
        blocks.append(raw)
        return raw.bindMemory(to: Element.self, capacity: count)
    }

    deinit {
        for block in blocks { free(block) }
    }
}
