/// A failure of the cluster's message bus: libnats' status code and text, with what was being done.
///
/// `status` is libnats' `natsStatus` (`NATS_CONNECTION_CLOSED` = 5, `NATS_NO_SERVER` = 6, `NATS_TIMEOUT`, ...) or
/// `ClusterBusError.wrapperMisuse` for a problem found before calling libnats. `reason` never contains a credential:
/// server URLs in it are redacted (`ServerList.redacted`).
public struct ClusterBusError: Error, Sendable, CustomStringConvertible {
    /// libnats' status code, or `wrapperMisuse`.
    public var status: Int32
    /// libnats' text for `status` (`natsStatus_GetText`), for example "Timeout".
    public var statusText: String
    /// What failed, for people.
    public var reason: String

    /// The code used for errors detected by this wrapper rather than by libnats.
    public static let wrapperMisuse: Int32 = -1

    /// Creates an error from a status code, its text and an explanation.
    public init(status: Int32, statusText: String, reason: String) {
        self.status = status
        self.statusText = statusText
        self.reason = reason
    }

    public var description: String { "NATS error \(status) (\(statusText)): \(reason)" }
}
