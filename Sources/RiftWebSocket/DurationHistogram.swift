/// Counts of durations in fixed buckets (cumulative, as Prometheus histograms are read), with their sum.
///
/// A pure value: the service loop records one duration per pass into it and the hub renders it on its metrics page.
/// Bucket bounds are upper bounds in nanoseconds, ascending; a duration above the last bound counts only in `count`
/// (the `+Inf` bucket).
public struct DurationHistogram: Sendable, Equatable {
    /// The buckets' upper bounds in nanoseconds, ascending.
    public let upperBoundsNanoseconds: [UInt64]
    /// Per bucket, how many durations were at most its bound and above the previous one (not cumulative).
    public private(set) var bucketCounts: [UInt64]
    /// Every duration recorded.
    public private(set) var count: UInt64 = 0
    /// Their sum in nanoseconds.
    public private(set) var sumNanoseconds: UInt64 = 0

    /// The bounds the service-loop histograms use: 50 µs to 100 ms, roughly doubling.
    public static let servicePassBounds: [UInt64] = [
        50_000, 100_000, 250_000, 500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000, 20_000_000, 50_000_000,
        100_000_000,
    ]

    /// An empty histogram over `upperBoundsNanoseconds` (sorted and deduplicated here).
    public init(upperBoundsNanoseconds: [UInt64] = Self.servicePassBounds) {
        self.upperBoundsNanoseconds = Array(Set(upperBoundsNanoseconds)).sorted()
        bucketCounts = Array(repeating: 0, count: self.upperBoundsNanoseconds.count)
    }

    /// Counts one duration.
    public mutating func record(nanoseconds: UInt64) {
        count &+= 1
        sumNanoseconds &+= nanoseconds
        // A dozen bounds: a linear scan is cheaper than anything cleverer.
        for index in upperBoundsNanoseconds.indices where nanoseconds <= upperBoundsNanoseconds[index] {
            bucketCounts[index] &+= 1
            return
        }
    }

    /// Per bound, how many durations were at most it (Prometheus' `le` buckets), then `count` for `+Inf`.
    public var cumulativeCounts: [UInt64] {
        var running: UInt64 = 0
        return bucketCounts.map { running &+= $0; return running } + [count]
    }
}
