/// Durations written as people write them in flags and config files: `90`, `90s`, `15m`, `12h`, `30d`.
public enum DurationText {
    /// The number of seconds `text` denotes (a bare number is seconds); nil when malformed, zero, or
    /// larger than a hundred years.
    public static func seconds(_ text: String) -> Int64? {
        guard let last = text.last else { return nil }
        let multiplier: Int64
        var digits = Substring(text)
        switch last {
        case "s": multiplier = 1
        case "m": multiplier = 60
        case "h": multiplier = 3600
        case "d": multiplier = 86_400
        case "0"..."9": multiplier = 1
        default: return nil
        }
        if !last.isNumber { digits = digits.dropLast() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int64(digits),
              value > 0, value <= 100 * 365 * 86_400 / multiplier else { return nil }
        return value * multiplier
    }
}
