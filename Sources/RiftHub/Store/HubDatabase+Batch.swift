import RiftStore

/// Write batching: the hub commits the writes of one service-loop pass together (`HubDirectory.commitPendingWrites`).
extension HubDatabase {
    /// From now on every write joins one open transaction (each write a savepoint of it, so that a failing write undoes
    /// only itself) until `commitPendingWrites`. The hub turns this on for its own connection; the admin CLI never does.
    public func batchWrites() {
        batchesWrites = true
    }

    public var hasUncommittedWrites: Bool { batchTransactionOpen }

    public func commitPendingWrites() throws(DirectoryError) {
        guard batchTransactionOpen else { return }
        batchTransactionOpen = false
        do {
            try database.commitTransaction()
        } catch {
            throw DirectoryError(reason: "cannot commit: \(error.reason)", code: error.code)
        }
    }

    /// Opens the batch's transaction before its first write.
    func openBatchTransactionIfNeeded() throws(SQLiteError) {
        guard batchesWrites, !batchTransactionOpen else { return }
        try database.beginTransaction()
        batchTransactionOpen = true
    }
}
