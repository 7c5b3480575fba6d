import RiftWebSocket
import Testing
@testable import RiftHub

@Suite("the service loop's figures on the admin pages")
struct ServicePassMetricsTests {
    @Test("nanoseconds are written as exact decimal seconds")
    func seconds() {
        #expect(ServicePassStatistics.seconds(0) == "0")
        #expect(ServicePassStatistics.seconds(50_000) == "0.00005")
        #expect(ServicePassStatistics.seconds(2_000_000) == "0.002")
        #expect(ServicePassStatistics.seconds(1_500_000_001) == "1.500000001")
        #expect(ServicePassStatistics.seconds(3_000_000_000) == "3")
    }

    @Test("the histograms are cumulative Prometheus histograms and the slow passes are listed with what ran")
    func rendering() {
        var statistics = ServicePassStatistics(slowPassNanoseconds: 2_000_000)
        var work = ServicePassActivity()
        work.framesRead = 3
        work.tickNanoseconds = 1_000
        statistics.recordPass(startedNanoseconds: 5, durationNanoseconds: 40_000, cpuNanoseconds: 40_000,
                              waitNanoseconds: 0, activity: work)
        statistics.recordPass(startedNanoseconds: 77, durationNanoseconds: 4_000_000, cpuNanoseconds: 1_000_000,
                              waitNanoseconds: 9, activity: work)
        statistics.recordWait(nanoseconds: 1_500_000)
        let text = statistics.prometheusText()
        #expect(text.contains("riftgate_hub_service_pass_seconds_bucket{le=\"0.00005\"} 1\n"))
        #expect(text.contains("riftgate_hub_service_pass_seconds_bucket{le=\"0.002\"} 1\n"))
        #expect(text.contains("riftgate_hub_service_pass_seconds_bucket{le=\"0.005\"} 2\n"))
        #expect(text.contains("riftgate_hub_service_pass_seconds_bucket{le=\"+Inf\"} 2\n"))
        #expect(text.contains("riftgate_hub_service_pass_seconds_sum 0.00404\n"))
        #expect(text.contains("riftgate_hub_service_wait_seconds_bucket{le=\"0.001\"} 0\n"))
        #expect(text.contains("riftgate_hub_service_wait_seconds_bucket{le=\"0.002\"} 1\n"))
        #expect(text.contains("riftgate_hub_service_slow_passes_total 1\n"))
        #expect(text.contains("riftgate_hub_service_slow_pass_off_cpu_seconds_total 0.003\n"))
        #expect(text.contains("riftgate_hub_service_slow_pass_work_total{kind=\"frames_read\"} 3\n"))
        #expect(text.contains("riftgate_hub_service_pass_work_total{kind=\"frames_read\"} 6\n"))
        #expect(text.contains("riftgate_hub_service_slow_pass_job_seconds_total{job=\"tick\"} 0.000001\n"))
        #expect(text.contains("riftgate_hub_service_pass_job_seconds_total{job=\"tick\"} 0.000002\n"))
        #expect(!text.contains("_ns\""), "durations are not mixed with counts")
        let lines = statistics.slowPassesText().split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("# started_ns duration_ns cpu_ns wait_before_ns accepts frames_read"))
        #expect(lines[1] == "77 4000000 1000000 9 0 3 0 0 0 0 0 0 1000 0")
    }
}
