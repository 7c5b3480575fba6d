extension Duration {
    /// The duration in whole seconds, rounded up, at least 1 for any positive duration;
    /// libwebsockets' timeouts and heartbeat policy count in seconds.
    var wholeSecondsRoundedUp: Int {
        let (seconds, attoseconds) = components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 0 }
        let whole = attoseconds > 0 ? seconds + 1 : seconds
        return whole > Int64(Int32.max) ? Int(Int32.max) : Int(whole)
    }

    /// The duration in microseconds (lws timers' unit), clamped to zero and to about 292,000 years.
    var wholeMicroseconds: Int64 {
        let (seconds, attoseconds) = components
        if seconds < 0 { return 0 }
        if seconds >= Int64.max / 1_000_000 - 1 { return Int64.max / 2 }
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}
