internal import CRiftNice

/// A GLib source that is ready while its `MainContextThread` has receive flushes queued, so they run in the same
/// or the next iteration of the loop, without a system call: libnice dispatches each datagram to a receive handler,
/// the handler batches it, and this source ends the batch once the iteration's datagrams have been handed over.
///
/// The source carries an unretained pointer to its owner after the `GSource` header; the owner destroys the source
/// in its `deinit`, before the pointer could dangle.
enum FlushSource {
    /// The callbacks of every flush source (never freed: GLib keeps a pointer to them in each source).
    nonisolated(unsafe) private static let functions: UnsafeMutablePointer<GSourceFuncs> = {
        let functions = UnsafeMutablePointer<GSourceFuncs>.allocate(capacity: 1)
        functions.initialize(to: GSourceFuncs())
        functions.pointee.prepare = { source, timeout in
            timeout?.pointee = -1
            return owner(of: source).hasQueuedFlush ? 1 : 0
        }
        functions.pointee.check = { source in owner(of: source).hasQueuedFlush ? 1 : 0 }
        functions.pointee.dispatch = { source, _, _ in
            owner(of: source).runQueuedFlushes()
            return 1  // G_SOURCE_CONTINUE
        }
        return functions
    }()

    /// Creates the source for `owner` (an unretained `MainContextThread`), attaches it to `context` at default
    /// priority (the priority of libnice's socket sources) and returns the caller's reference.
    static func attach(to context: OpaquePointer, owner: UnsafeMutableRawPointer) -> UnsafeMutablePointer<GSource>? {
        let size = MemoryLayout<GSource>.stride + MemoryLayout<UnsafeMutableRawPointer>.size
        guard let source = g_source_new(functions, guint(size)) else { return nil }
        UnsafeMutableRawPointer(source).storeBytes(of: owner, toByteOffset: MemoryLayout<GSource>.stride,
                                                   as: UnsafeMutableRawPointer.self)
        g_source_set_priority(source, 0)  // G_PRIORITY_DEFAULT
        g_source_set_name(source, "riftgate-receive-flush")
        _ = g_source_attach(source, context)
        return source
    }

    private static func owner(of source: UnsafeMutablePointer<GSource>?) -> MainContextThread {
        let raw = UnsafeMutableRawPointer(source!).load(fromByteOffset: MemoryLayout<GSource>.stride,
                                                        as: UnsafeMutableRawPointer.self)
        return Unmanaged<MainContextThread>.fromOpaque(raw).takeUnretainedValue()
    }
}
