internal import CRiftLinux
import Foundation
import RiftSupport
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Watches the kernel's routing notifications (rtnetlink: links, addresses, routes) and reports the changes that
/// matter to the agent's underlay in debounced batches, from its own thread.
///
/// The thread polls the netlink socket and a wake-up pipe; `shutdown()` wakes it and waits for it to end before the
/// descriptors are closed (as `ControlServer` does). Lost notifications (ENOBUFS) are reported as such, so the
/// runtime re-examines everything instead of missing a change.
final class UnderlayMonitor: @unchecked Sendable {  // immutable after init; the thread is joined once, under `stopping`
    private let socket: Int32
    private let wake: Int32
    private let wakeWriter: Int32
    private let relevance: UnderlayRelevance
    private let onChanges: @Sendable ([UnderlayChange]) -> Void
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private let quiet: Duration
    private let longest: Duration

    /// Subscribes to the kernel's notifications and starts watching; `onChanges` is called from the monitor's thread.
    init(relevance: UnderlayRelevance, quiet: Duration = .milliseconds(250), longest: Duration = .seconds(1),
         onChanges: @escaping @Sendable ([UnderlayChange]) -> Void) throws(AgentError) {
        self.relevance = relevance
        self.onChanges = onChanges
        self.quiet = quiet
        self.longest = longest
        let fd = CRiftLinux_route_monitor_socket()
        guard fd >= 0 else { throw AgentError.system("cannot watch network changes (rtnetlink): \(String(cString: strerror(errno)))") }
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw AgentError.system("network monitor wake-up pipe: \(reason)")
        }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        socket = fd
        wake = ends[0]
        wakeWriter = ends[1]
        do {
            try JoinableThread.spawn(name: "riftgate-underlay") { [self] in
                watch()
                finished.signal()
            }.detach()
        } catch {
            for descriptor in [fd, ends[0], ends[1]] { close(descriptor) }
            throw AgentError.system("network monitor thread: \(error)")
        }
    }

    /// Stops watching and waits for the thread to end. Idempotent; never call it from `onChanges`.
    func shutdown() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        try? SystemCall.writeAll(wakeWriter, [1])
        finished.wait()
        close(socket)
        close(wake)
        close(wakeWriter)
    }

    private func watch() {
        var debouncer = ChangeDebouncer(quiet: quiet, longest: longest)
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let clock = ContinuousClock()
        while !stopping.load(ordering: .acquiring) {
            var descriptors = [pollfd(fd: socket, events: Int16(POLLIN), revents: 0), pollfd(fd: wake, events: Int16(POLLIN), revents: 0)]
            var timeout: Int32 = -1
            if let deadline = debouncer.deadline {
                let left = clock.now.duration(to: deadline)
                timeout = left <= .zero ? 0 : Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
            }
            guard (try? SystemCall.retrying("poll") { poll(&descriptors, 2, timeout) }) != nil else { return }
            if descriptors[1].revents != 0 { return }
            if descriptors[0].revents != 0 { debouncer.add(drain(&buffer), at: clock.now) }
            if let batch = debouncer.takeIfDue(at: clock.now) { onChanges(batch) }
        }
    }

    /// Reads every datagram waiting on the socket; returns the relevant changes in order.
    private func drain(_ buffer: inout [UInt8]) -> [UnderlayChange] {
        var changes: [UnderlayChange] = []
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count > 0 {
                changes += RouteMessageParser.changes(in: Array(buffer[..<count])).filter(relevance.matters)
                continue
            }
            if count < 0 && errno == EINTR { continue }
            if count < 0 && errno == ENOBUFS {
                changes.append(.lostNotifications)
                continue
            }
            return changes
        }
    }
}
