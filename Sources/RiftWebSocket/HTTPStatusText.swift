/// Short explanations of the HTTP statuses a WebSocket upgrade is commonly refused with.
enum HTTPStatusText {
    /// " (Unauthorized)" and the like, or "" for statuses without a note.
    static func suffix(for status: UInt32) -> String {
        switch status {
        case 400: " (Bad Request)"
        case 401: " (Unauthorized: the token was missing or rejected)"
        case 403: " (Forbidden)"
        case 404: " (Not Found: check the URL path)"
        case 426: " (Upgrade Required)"
        case 429: " (Too Many Requests)"
        case 502, 503, 504: " (the server or its proxy is unavailable)"
        default: ""
        }
    }
}
