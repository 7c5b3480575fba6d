/// Checks on ICE credentials received from a peer, before they reach libnice (which copies whatever it is given).
enum ICECredentials {
    /// RFC 8445 section 5.3: ufrag 4...256 and password 22...256 `ice-char`s (ALPHA / DIGIT / "+" / "/").
    static func validate(ufrag: String, pwd: String) throws(ICEError) {
        guard (4...256).contains(ufrag.utf8.count), ufrag.utf8.allSatisfy(isICEChar) else {
            throw ICEError(.invalidCredentials, "remote ufrag must be 4 to 256 ice-chars")
        }
        guard (22...256).contains(pwd.utf8.count), pwd.utf8.allSatisfy(isICEChar) else {
            throw ICEError(.invalidCredentials, "remote password must be 22 to 256 ice-chars")
        }
    }

    private static func isICEChar(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "/"): true
        default: false
        }
    }
}
