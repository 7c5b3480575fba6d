import Testing
@testable import RiftHub

@Suite("connections refused at accept are logged once, then summed up at most once a minute")
struct RefusedConnectionLogTests {
    @Test("the first refusal is a line at once; the next ones are counted into the next line")
    func summarised() {
        var log = RefusedConnectionLog(interval: 60)
        #expect(log.record(.pendingPerAddress, address: "192.0.2.7", now: 100)
                    == .init(kind: .pendingPerAddress, refused: 1, lastAddress: "192.0.2.7"))
        for second in 101..<150 { #expect(log.record(.pendingPerAddress, address: "192.0.2.8", now: Double(second)) == nil) }
        #expect(log.dueLines(now: 159) == [])
        #expect(log.dueLines(now: 160) == [.init(kind: .pendingPerAddress, refused: 49, lastAddress: "192.0.2.8")])
        #expect(log.dueLines(now: 500) == [])
        #expect(log.record(.pendingPerAddress, address: "192.0.2.9", now: 501)?.refused == 1)
    }

    @Test("each kind has its own line and interval")
    func kindsApart() {
        var log = RefusedConnectionLog(interval: 60)
        #expect(log.record(.capacity, address: nil, now: 0) != nil)
        #expect(log.record(.pendingPerAddress, address: "198.51.100.1", now: 1) != nil)
        #expect(log.record(.capacity, address: nil, now: 2) == nil)
        #expect(log.dueLines(now: 59) == [])
        #expect(log.dueLines(now: 60) == [.init(kind: .capacity, refused: 1, lastAddress: nil)])
        #expect(log.dueLines(now: 61) == [])
    }
}
