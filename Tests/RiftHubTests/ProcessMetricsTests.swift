import Testing
@testable import RiftHub

@Suite struct ProcessMetricsTests {
    @Test func readsTheSoftLimitFromProcLimits() {
        let limits = """
            Limit                     Soft Limit           Hard Limit           Units
            Max cpu time              unlimited            unlimited            seconds
            Max open files            65536                524288               files
            Max locked memory         8388608              8388608              bytes
            """
        #expect(ProcessMetrics.softOpenFileLimit(limits) == 65536)
        #expect(ProcessMetrics.softOpenFileLimit("Max open files            unlimited            unlimited            files") == nil)
        #expect(ProcessMetrics.softOpenFileLimit("nothing here") == nil)
    }

    @Test func thisProcessHasOpenDescriptorsBelowItsLimit() throws {
        let metrics = ProcessMetrics.current()
        let open = try #require(metrics.openFileDescriptors)
        let limit = try #require(metrics.maxFileDescriptors)
        #expect(open >= 3)  // standard input, output and error at least
        #expect(open < limit)
    }

    @Test func rendersOnlyWhatWasRead() {
        let text = ProcessMetrics(openFileDescriptors: 12, maxFileDescriptors: 1024).prometheusText()
        #expect(text.contains("\nprocess_open_fds 12\n"))
        #expect(text.contains("\nprocess_max_fds 1024\n"))
        #expect(text.contains("# TYPE process_max_fds gauge"))
        #expect(ProcessMetrics(openFileDescriptors: nil, maxFileDescriptors: nil).prometheusText().isEmpty)
    }
}
