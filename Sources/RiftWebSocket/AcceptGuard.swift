/// Decides, as each TCP connection is accepted and before any of its bytes is read, whether the server keeps it.
///
/// Two limits, both about descriptors rather than messages:
/// - **capacity**: at most `maximumSockets` accepted sockets at once, the open-file limit less a reserve for the
///   process' other files (its database, logs, listeners, the cluster's connections). Without it the process runs out
///   of descriptors first, `accept(2)` fails with `EMFILE` while the connection stays queued, and lws 4.1 retries
///   it at once, logging each failure: a CPU spent in a loop and hundreds of thousands of log lines a minute
///   (measured: 457,880 lines in 70 s with 30,000 idle connections offered to a hub limited to 20,000 files).
/// - **pending per address**: at most `maximumPendingPerAddress` connections from one client address (an IPv4
///   address, or the /64 of an IPv6 one) that have not finished their WebSocket upgrade. Such a connection has proved
///   nothing yet and is held until lws' handshake timeout, so without a bound one host opening connections and
///   sending nothing holds every descriptor the server has and nobody else gets in. A valid client spends a round
///   trip or three there (TCP, TLS, the upgrade), so even many agents behind one NAT reconnecting together stay far
///   below the bound; past it a connection is closed at once and the client retries. Loopback (unless
///   `exemptsLoopback` is false) and the `exemptAddresses` (the hub's trusted proxies, whose connections carry many
///   clients) are not limited.
///
/// State is keyed by descriptor, which the kernel reuses only after a close: a descriptor admitted again without its
/// close having been seen (lws failed to adopt it) first releases what it held.
struct AcceptGuard {
    /// Set from the open-file limit when the server starts (`maximumSockets(fileDescriptorLimit:)`).
    var maximumSockets: Int
    /// 0: no limit.
    let maximumPendingPerAddress: Int
    private let exemptAddresses: Set<ClientAddressKey>
    private let exemptsLoopback: Bool

    private struct Entry {
        /// nil for an address that is not limited.
        var address: ClientAddressKey?
        var pending: Bool
    }

    private var sockets: [Int32: Entry] = [:]
    private var pendingByAddress: [ClientAddressKey: Int] = [:]

    init(maximumSockets: Int, maximumPendingPerAddress: Int, exemptAddresses: some Sequence<ClientAddressKey>,
         exemptsLoopback: Bool = true) {
        self.maximumSockets = maximumSockets
        self.maximumPendingPerAddress = maximumPendingPerAddress
        self.exemptAddresses = Set(exemptAddresses)
        self.exemptsLoopback = exemptsLoopback
    }

    /// The most sockets a server with `fileDescriptorLimit` open files may hold: an eighth of the limit, at most 256
    /// and at least 16, is left to the process' other files.
    static func maximumSockets(fileDescriptorLimit: Int) -> Int {
        let reserve = min(256, max(16, fileDescriptorLimit / 8))
        return max(1, fileDescriptorLimit - reserve)
    }

    /// Accepted sockets held now.
    var socketCount: Int { sockets.count }

    /// Connections from `address` that have not finished their upgrade.
    func pendingCount(from address: ClientAddressKey) -> Int { pendingByAddress[address, default: 0] }

    /// A connection was accepted on `descriptor` from `address` (nil when the address could not be read, which is
    /// then not limited): nil keeps it, otherwise the reason to close it now.
    mutating func admit(descriptor: Int32, from address: ClientAddressKey?) -> ConnectionRefusal? {
        closed(descriptor: descriptor)
        guard sockets.count < maximumSockets else { return .atCapacity }
        let limited = maximumPendingPerAddress == 0 ? nil
            : address.flatMap { (exemptsLoopback && $0.isLoopback) || exemptAddresses.contains($0) ? nil : $0 }
        if let limited {
            guard pendingByAddress[limited, default: 0] < maximumPendingPerAddress else {
                return .tooManyPending(from: limited.description)
            }
            pendingByAddress[limited, default: 0] += 1
        }
        sockets[descriptor] = Entry(address: limited, pending: true)
        return nil
    }

    /// The connection on `descriptor` finished its WebSocket upgrade: it no longer counts as pending.
    mutating func upgraded(descriptor: Int32) {
        guard var entry = sockets[descriptor], entry.pending else { return }
        entry.pending = false
        sockets[descriptor] = entry
        release(entry.address)
    }

    /// The connection on `descriptor` is gone.
    mutating func closed(descriptor: Int32) {
        guard let entry = sockets.removeValue(forKey: descriptor), entry.pending else { return }
        release(entry.address)
    }

    private mutating func release(_ address: ClientAddressKey?) {
        guard let address, let count = pendingByAddress[address] else { return }
        pendingByAddress[address] = count > 1 ? count - 1 : nil
    }
}
