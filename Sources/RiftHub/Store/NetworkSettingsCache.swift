/// The settings of the networks a hub has looked up, kept until the stored data may have changed.
///
/// Every join reads its network's settings (twice: at the token check and at the hello), and reading them means a
/// query and parsing two prefixes. Networks change only through the admin CLI, which every running hub notices
/// through the change marker (SQLite's `data_version`, PostgreSQL's counter) it polls once per tick: the cache holds
/// what was read under one marker value and is emptied when the marker moves, or when this connection changes a
/// network itself. Unknown names are not cached, so a client guessing names cannot grow it.
struct NetworkSettingsCache {
    private var settings: [String: NetworkSettings] = [:]
    /// The change marker the entries were read under; nil before the first poll.
    private var marker: Int64?

    /// The cached settings of `name`, nil when not cached.
    func settings(named name: String) -> NetworkSettings? { settings[name] }

    /// Remembers what was read for `name`.
    mutating func store(_ network: NetworkSettings) { settings[network.name] = network }

    /// Empties the cache when `marker` differs from the value its entries were read under.
    mutating func observe(marker: Int64) {
        guard marker != self.marker else { return }
        self.marker = marker
        settings.removeAll()
    }

    /// Empties the cache (this connection changed a network).
    mutating func removeAll() { settings.removeAll() }

    /// How many networks are cached.
    var count: Int { settings.count }
}
