import RiftWebSocket
import Testing

@Suite("the service loop's pass and wait figures")
struct ServicePassStatisticsTests {
    @Test("a duration counts in the first bucket whose bound holds it; above the last, only in the total")
    func histogramBuckets() {
        var histogram = DurationHistogram(upperBoundsNanoseconds: [1_000, 100, 10_000, 100])
        #expect(histogram.upperBoundsNanoseconds == [100, 1_000, 10_000])
        for nanoseconds: UInt64 in [0, 100, 101, 1_000, 9_999, 50_000] { histogram.record(nanoseconds: nanoseconds) }
        #expect(histogram.bucketCounts == [2, 2, 1])
        #expect(histogram.cumulativeCounts == [2, 4, 5, 6])
        #expect(histogram.count == 6)
        #expect(histogram.sumNanoseconds == 61_200)
    }

    @Test("only passes over the threshold are slow; their activity and off-CPU time add up")
    func slowPasses() {
        var statistics = ServicePassStatistics(slowPassNanoseconds: 2_000_000, recentCapacity: 8)
        var frames = ServicePassActivity()
        frames.framesRead = 70
        frames.writes = 69
        statistics.recordPass(startedNanoseconds: 10, durationNanoseconds: 2_000_000, cpuNanoseconds: 2_000_000,
                              waitNanoseconds: 5, activity: frames)
        statistics.recordPass(startedNanoseconds: 20, durationNanoseconds: 4_300_000, cpuNanoseconds: 300_000,
                              waitNanoseconds: 7, activity: frames)
        statistics.recordPass(startedNanoseconds: 30, durationNanoseconds: 3_000_000, cpuNanoseconds: 3_100_000,
                              waitNanoseconds: 9, activity: frames)
        statistics.recordWait(nanoseconds: 1_500_000)
        #expect(statistics.passes.count == 3)
        #expect(statistics.waits.count == 1)
        #expect(statistics.slowPasses == 2)  // exactly 2 ms is not slow
        #expect(statistics.slowPassesOffCPUNanoseconds == 4_000_000)  // CPU above wall counts as none off
        #expect(statistics.slowPassActivity.framesRead == 140)
        #expect(statistics.totalActivity.framesRead == 210)
        #expect(statistics.recentSlowPasses.map(\.startedNanoseconds) == [20, 30])
        #expect(statistics.recentSlowPasses.first?.cpuNanoseconds == 300_000)
    }

    @Test("the latest slow passes are kept, oldest first, up to the capacity")
    func recentRing() {
        var statistics = ServicePassStatistics(slowPassNanoseconds: 0, recentCapacity: 3)
        for start: UInt64 in 1...7 {
            statistics.recordPass(startedNanoseconds: start, durationNanoseconds: 1, cpuNanoseconds: 1,
                                  waitNanoseconds: 0, activity: ServicePassActivity())
        }
        #expect(statistics.recentSlowPasses.map(\.startedNanoseconds) == [5, 6, 7])
        #expect(statistics.slowPasses == 7)
    }
}

extension LoopbackTests {
    @Suite("a server times its service loop when asked")
    struct ServicePassRecordingTests {
        @Test("a server that records its passes times them and counts what ran in them")
        func serverRecordsPasses() async throws {
            let handler = RecordingHandler()
            let server = try startServer(handler) { $0.recordsServicePasses = true }
            defer { server.shutdown() }
            let probe = try ClientProbe(port: server.boundPort)
            try await probe.waitConnected()
            for index in 0..<20 { probe.client.send("message \(index)") }
            #expect(try await probe.waitTexts(20, timeout: .seconds(10)).count == 20)
            try await waitUntil("the passes that read and echoed the messages to be recorded") {
                let totals = server.servicePassStatistics?.totalActivity
                return (totals?.framesRead ?? 0) >= 20 && (totals?.writes ?? 0) >= 20 && (totals?.accepts ?? 0) == 1
            }
            let statistics = try #require(server.servicePassStatistics)
            #expect(statistics.passes.count > 0 && statistics.waits.count > 0)
            #expect(statistics.totalActivity.handlerEvents >= 21)  // the open and the 20 messages
        }

        @Test("a server that does not record its passes has no figures")
        func notRecorded() throws {
            let server = try startServer(RecordingHandler())
            defer { server.shutdown() }
            #expect(server.servicePassStatistics == nil)
        }
    }
}
