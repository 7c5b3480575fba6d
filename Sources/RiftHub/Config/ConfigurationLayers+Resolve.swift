extension ConfigurationLayers {
    /// The merged, validated configuration. Errors name the setting and the source it came from.
    public func resolve() throws(ConfigurationError) -> HubConfiguration {
        var configuration = HubConfiguration()
        if let listen = try address("listen") { configuration.listen = listen }
        configuration.tlsCertificate = try text("tls_cert") ?? configuration.tlsCertificate
        configuration.tlsKey = try text("tls_key") ?? configuration.tlsKey
        configuration.stateDirectory = try text("state_dir") ?? configuration.stateDirectory
        configuration.database = try text("database") ?? configuration.database
        if let port = try integer("stun_port", in: 0...65535) { configuration.stunPort = UInt16(port) }
        configuration.stunHost = try text("stun_host") ?? configuration.stunHost
        if let port = try integer("stun_alt_port", in: 1...65535) { configuration.stunAltPort = UInt16(port) }
        if try boolean("no_stun") == true { configuration.stunPort = nil; configuration.stunAltPort = nil }
        configuration.turnSecretFile = try text("turn_secret_file") ?? configuration.turnSecretFile
        configuration.turnURLs = try list("turn_urls") ?? configuration.turnURLs
        configuration.turnTTL = try duration("turn_ttl") ?? configuration.turnTTL
        configuration.turnCheckInterval = try duration("turn_check_interval") ?? configuration.turnCheckInterval
        configuration.publicHost = try text("public_host") ?? configuration.publicHost
        configuration.adminListen = try address("admin_listen") ?? configuration.adminListen
        configuration.trustedProxies = try list("trusted_proxies") ?? configuration.trustedProxies
        configuration.pingInterval = try duration("ping_interval") ?? configuration.pingInterval
        configuration.pongTimeout = try duration("pong_timeout") ?? configuration.pongTimeout
        configuration.ephemeralGrace = try duration("ephemeral_grace") ?? configuration.ephemeralGrace
        configuration.logLevel = try text("log_level") ?? configuration.logLevel
        configuration.natsServers = try list("nats") ?? configuration.natsServers
        configuration.hubID = try text("hub_id") ?? configuration.hubID
        configuration.natsCAFile = try text("nats_ca_file") ?? configuration.natsCAFile
        configuration.natsCredentialsFile = try text("nats_credentials_file") ?? configuration.natsCredentialsFile
        try configuration.validate()
        return configuration
    }

    private func text(_ key: String) throws(ConfigurationError) -> String? {
        guard let (value, source) = value(key) else { return nil }
        guard case .text(let string) = value, !string.isEmpty else { throw ConfigurationError("\(key) (\(source)) must be a non-empty string") }
        return string
    }

    private func integer(_ key: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let (value, source) = value(key) else { return nil }
        let number: Int? = switch value {
        case .integer(let integer): integer
        case .text(let string): Int(string)
        default: nil
        }
        guard let number, range.contains(number) else { throw ConfigurationError("\(key) (\(source)) must be a number in \(range)") }
        return number
    }

    private func boolean(_ key: String) throws(ConfigurationError) -> Bool? {
        guard let (value, source) = value(key) else { return nil }
        switch value {
        case .boolean(let flag): return flag
        case .text(let string) where ["1", "true", "yes", "on"].contains(string.lowercased()): return true
        case .text(let string) where ["0", "false", "no", "off", ""].contains(string.lowercased()): return false
        default: throw ConfigurationError("\(key) (\(source)) must be true or false")
        }
    }

    private func list(_ key: String) throws(ConfigurationError) -> [String]? {
        guard let (value, source) = value(key) else { return nil }
        switch value {
        case .list(let items): return items
        case .text(let string): return string.split(separator: ",").map { String($0.drop(while: \.isWhitespace)) }.filter { !$0.isEmpty }
        default: throw ConfigurationError("\(key) (\(source)) must be a list of strings")
        }
    }

    private func duration(_ key: String) throws(ConfigurationError) -> Int64? {
        guard let (value, source) = value(key) else { return nil }
        let seconds: Int64? = switch value {
        case .integer(let integer): integer > 0 ? Int64(integer) : nil
        case .text(let string): DurationText.seconds(string)
        default: nil
        }
        guard let seconds else { throw ConfigurationError("\(key) (\(source)) must be a duration such as 90, 30s, 15m, 12h or 30d") }
        return seconds
    }

    private func address(_ key: String) throws(ConfigurationError) -> ListenAddress? {
        guard let (value, source) = value(key) else { return nil }
        guard case .text(let string) = value, let address = ListenAddress(string) else {
            throw ConfigurationError("\(key) (\(source)) must be host:port, [ipv6]:port or :port")
        }
        return address
    }
}
