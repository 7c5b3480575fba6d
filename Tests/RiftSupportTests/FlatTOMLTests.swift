import Foundation
import RiftSupport
import Testing

/// riftgate's own reader of its TOML files: what TOML 1.0 says for the values riftgate uses, a clear error with the
/// line for everything else, and never a crash (the inputs that made toml++ abort are here).
@Suite("FlatTOML: riftgate's settings files")
struct FlatTOMLTests {
    private func parse(_ text: String) throws -> FlatTOML.Document { try FlatTOML.parse(text) }

    private func failure(_ text: String) -> FlatTOML.ParseError? {
        do {
            _ = try FlatTOML.parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test("the files riftgate writes and documents: strings, integers, booleans, lists, comments, blank lines")
    func documentedFiles() throws {
        let document = try parse("""
            # riftgate agent configuration
            hub = ["wss://hub1.example.org", "wss://hub2.example.org"]   # two hubs
            network = "home"
            listen_port = 51820
            dns = true
            accept_routes = false

            advertise_routes = [
                "192.168.1.0/24",  # the LAN
                "10.0.0.0/8",
            ]
            name = 'laptop'
            """)
        #expect(document.keys == ["hub", "network", "listen_port", "dns", "accept_routes", "advertise_routes", "name"])
        #expect(document["hub"] == .array([.string("wss://hub1.example.org"), .string("wss://hub2.example.org")]))
        #expect(document["network"]?.string == "home")
        #expect(document["listen_port"]?.int == 51820)
        #expect(document["dns"]?.bool == true && document["accept_routes"]?.bool == false)
        #expect(document["advertise_routes"]?.strings == ["192.168.1.0/24", "10.0.0.0/8"])
        #expect(FlatTOML.Value.array([]).strings == [] && FlatTOML.Value.string("a").strings == nil)
        #expect(FlatTOML.Value.array([.string("a"), .integer(1)]).strings == nil, "a list with anything but strings")
        #expect(document["name"]?.string == "laptop")
        #expect(document["missing"] == nil)
        #expect(try parse("a = [[1, 'x'], [], [\n[true]\n]]")["a"]
                == .array([.array([.integer(1), .string("x")]), .array([]), .array([.array([.boolean(true)])])]))
        #expect(try parse("a = " + String(repeating: "[", count: 16) + String(repeating: "]", count: 16))["a"] != nil)
    }

    @Test("the hub.toml files the packages ship", arguments: [
        "deploy/debian/riftgate-hub/files/etc/riftgate-hub/hub.toml", "deploy/cluster/hub-member.toml",
    ])
    func shippedFiles(path: String) throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let text = try String(contentsOf: repository.appendingPathComponent(path), encoding: .utf8)
        #expect(try !parse(text).keys.isEmpty)
    }

    @Test("strings as TOML 1.0 reads them", arguments: [
        (#"a = "tab\there \"q\" back\\slash \u00E9 \U0001F600""#, "tab\there \"q\" back\\slash é 😀"),
        (#"a = 'C:\no\escapes'"#, #"C:\no\escapes"#),
        ("a = \"\"\"\nfirst\nsecond\"\"\"", "first\nsecond"),
        ("a = \"\"\"one \\\n    two \\\n\n  three\"\"\"", "one two three"),
        ("a = \"\"\"x\"\"\"\"", "x\""), ("a = \"\"\"x\"\"\"\"\"", "x\"\""),
        ("a = '''\nraw \\n ''line'''", "raw \\n ''line"),
        ("a = \"\"", ""), ("\"quoted key\" = 1", nil), ("a = \"\\b\\f\\r\\n\"", "\u{08}\u{0C}\r\n"),
        ("\u{FEFF}a = \"after a byte order mark\"", "after a byte order mark"),
        ("a = \"x\"\r\nb = 1\r\n", "x"),
    ] as [(String, String?)])
    func strings(text: String, expected: String?) throws {
        let document = try parse(text)
        if let expected { #expect(document["a"]?.string == expected) } else { #expect(document["quoted key"]?.int == 1) }
    }

    @Test("integers as TOML 1.0 writes them", arguments: [
        ("0", 0), ("+17", 17), ("-17", -17), ("1_000_000", 1_000_000), ("0xDEAD_beef", 0xDEAD_BEEF), ("0o755", 0o755),
        ("0b1010", 10), ("9223372036854775807", Int.max), ("-9223372036854775808", Int.min), ("-0", 0),
    ])
    func integers(word: String, expected: Int) throws {
        #expect(try parse("n = \(word)")["n"] == .integer(expected))
    }

    @Test("everything else is refused with its line and a reason", arguments: [
        // toml++ 3 aborted on an assert for these (found by FuzzConfiguration).
        ("ea= 9934-91-90 2]= ", 1, "is not a value riftgate reads"), ("[=]", 1, "[tables]"), ("[.a]", 1, "[tables]"),
        ("a = [}", 1, "{inline tables}"), ("[\u{711}\u{A4} ", 1, "[tables]"), (" [\u{1D}]", 1, "[tables]"),
        ("a = \"\"\"x\"\"\"\"\n[=]", 2, "[tables]"), ("a = [\"a\",\n# c\n}", 3, "{inline tables}"),
        // What TOML has and riftgate's settings do not use.
        ("[server]\nport = 1", 1, "[tables]"), ("a = { b = 1 }", 1, "{inline tables}"), ("a.b = 1", 1, "dotted keys"),
        ("a = 1.5", 1, "\"1.5\" is not a value"), ("a = 1979-05-27T07:32:00Z", 1, "is not a value"), ("a = inf", 1, "is not"),
        ("a = " + String(repeating: "[", count: 17), 1, "nested more than 16"), ("a = 9223372036854775808", 1, "is not a value"), ("a = 012", 1, "is not"),
        ("a = 1__0", 1, "is not"), ("a = _1", 1, "is not"), ("a = 0x", 1, "is not"), ("a = True", 1, "is not"),
        // Malformed lines.
        ("a = 1\na = 2", 2, "set twice"), ("a = 1 b = 2", 1, "end of the line"), ("a =", 1, "without a value"),
        ("a = [", 1, "closing ]"), ("a = [1 2]", 1, "expected , or ]"), ("= 1", 1, "expected a setting"),
        ("a 1", 1, "expected ="), ("a = \"open", 1, "never closed"), ("a = \"one\nline\"", 1, "line break"),
        ("a = \"\"\"\nnever\nclosed", 1, "never closed"), ("a = 'tab\tok\u{07}'", 1, "control character (U+0007)"),
        ("a = \"\\x41\"", 1, "unknown escape"), ("a = \"\\uD800\"", 1, "Unicode scalar"), ("a = \"\\u12\"", 1, "hex digits"),
        ("a = \"\\u+123\"", 1, "hex digits"), ("a = 1\rb = 2", 1, "carriage return"), ("# bell \u{07}", 1, "comment"),
        ("a = \"\"\"x\"\"\"\"\"\"", 1, "too many quotes"), ("\n\nb = 1\n\u{0B}c = 2", 4, "U+000B"),
    ])
    func refusals(text: String, line: Int, reason: String) {
        guard let error = failure(text) else {
            Issue.record("accepted: \(text.debugDescription)")
            return
        }
        #expect(error.line == line, "\(error)")
        #expect(error.reason.contains(reason), "\(error)")
        #expect(error.description.hasPrefix("line \(line): "))
    }

    @Test("any text gives a document or an error, never a crash: every prefix of awkward files")
    func prefixes() {
        let texts = [
            "a = \"\"\"x\\\n  y\"\"\"\nb = [\n 'p', # c\n \"q\\u00e9\",\n]\nc = -0x1\n", "k = '''\n''''' \n",
            "x = \"\\U0010FFFF\\U00110000\"", "[\u{711}\u{A4} \n{]}", "a=[1,[2]]", "\u{FEFF}\u{FEFF}a=1",
        ]
        for text in texts {
            let scalars = Array(text.unicodeScalars)
            for end in 0...scalars.count {
                var view = String.UnicodeScalarView()
                view.append(contentsOf: scalars[..<end])
                _ = failure(String(view))
            }
        }
    }
}
