/// The Prometheus text exposition format's small rules, shared by the hub's /metrics page and the agent's textfile.
public enum PrometheusText {
    /// A label value escaped for the exposition format: backslash, double quote and line feed.
    public static func escapeLabelValue(_ value: String) -> String {
        var result = ""
        for character in value {
            switch character {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case "\n": result += "\\n"
            default: result.append(character)
            }
        }
        return result
    }
}
