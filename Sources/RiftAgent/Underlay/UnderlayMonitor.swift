internal import CRiftLinux
import FoundationEssentials
import RiftSupport
#if canImport(Glibc)
import Glibc
#endif

/// Watches the kernel's routing notifications (rtnetlink: links, addresses, routes) and reports the changes that
/// matter to the agent's underlay in debounced batches, from its own thread.
///
/// The thread (a `PollingThread`) polls the netlink socket; `shutdown()` stops it and waits for it to end before the
/// socket is closed (as `ControlServer` does). Lost notifications (ENOBUFS) are reported as such, so the runtime
/// re-examines everything instead of missing a change.
final class UnderlayMonitor: @unchecked Sendable {  // immutable after init (`thread` is set once, in init)
    private let socket: OwnedDescriptor
    private var thread: PollingThread?
    private let relevance: UnderlayRelevance
    private let onChanges: @Sendable ([UnderlayChange]) -> Void
    private let quiet: Duration
    private let longest: Duration

    /// Subscribes to the kernel's notifications and starts watching; `onChanges` is called from the monitor's thread.
    init(relevance: UnderlayRelevance, quiet: Duration = .milliseconds(250), longest: Duration = .seconds(1),
         onChanges: @escaping @Sendable ([UnderlayChange]) -> Void) throws(AgentError) {
        self.relevance = relevance
        self.onChanges = onChanges
        self.quiet = quiet
        self.longest = longest
        do {
            socket = OwnedDescriptor(try SystemCall.retrying("socket") { CRiftLinux_route_monitor_socket() })
        } catch {
            throw AgentError.system("cannot watch network changes (rtnetlink): \(error.reason)")
        }
        do {
            thread = try PollingThread(name: "riftgate-underlay") { [self] waiter in watch(waiter) }
        } catch {
            throw AgentError.system("network monitor thread: \(error)")
        }
    }

    /// Stops watching and waits for the thread to end. Idempotent; never call it from `onChanges`.
    func shutdown() {
        thread?.stop()
        socket.close()
    }

    private func watch(_ waiter: PollingThread.Waiter) {
        var debouncer = ChangeDebouncer(quiet: quiet, longest: longest)
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let clock = ContinuousClock()
        while true {
            var timeout: Int32 = -1
            if let deadline = debouncer.deadline {
                let left = clock.now.duration(to: deadline)
                timeout = left <= .zero ? 0 : Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
            }
            guard let ready = waiter.wait(for: [pollfd(fd: socket.rawValue, events: Int16(POLLIN), revents: 0)],
                                          timeoutMilliseconds: timeout) else { return }
            if ready[0].revents != 0 { debouncer.add(drain(&buffer), at: clock.now) }
            if let batch = debouncer.takeIfDue(at: clock.now) { onChanges(batch) }
        }
    }

    /// Reads every datagram waiting on the socket; returns the relevant changes in order.
    private func drain(_ buffer: inout [UInt8]) -> [UnderlayChange] {
        var changes: [UnderlayChange] = []
        while true {
            do {
                let count = try SystemCall.receive(socket.rawValue, into: &buffer, flags: Int32(MSG_DONTWAIT))
                guard count > 0 else { return changes }
                changes += RouteMessageParser.changes(in: Array(buffer[..<count])).filter(relevance.matters)
            } catch where error.code == ENOBUFS {
                changes.append(.lostNotifications)
            } catch {
                return changes
            }
        }
    }
}
