import Histogram

/// Latencies and counts of one event loop's connections. Only that loop touches it; the totals
/// are merged after the loops stop.
final class Recorder: @unchecked Sendable {
    var latencies = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    /// While false (warm-up, shutdown) replies are not counted.
    var recording = false
    var gets = 0
    var getHits = 0
    var sets = 0
    var lockgens = 0
    var lockgenGenerate = 0
    var lockgenValue = 0
    var busy = 0
    var setgens = 0
    var notOwner = 0
    var errors = 0

    /// Counts one reply to `request` that took `nanoseconds`.
    func record(_ request: RequestKind, _ reply: ReplyKind, nanoseconds: UInt64) {
        guard recording else { return }
        latencies.record(nanoseconds)
        switch (request, reply) {
        case (.get, .end(let hit)):
            gets += 1
            if hit { getHits += 1 }
        case (.set, .stored): sets += 1
        case (.lockgen, .generate): lockgens += 1; lockgenGenerate += 1
        case (.lockgen, .lockValue): lockgens += 1; lockgenValue += 1
        case (.lockgen, .busy): lockgens += 1; busy += 1
        case (.setgen, .stored): setgens += 1
        case (.setgen, .notOwner): setgens += 1; notOwner += 1
        default: errors += 1
        }
    }

    /// Adds `other`'s counts and latencies to this one.
    func merge(_ other: Recorder) {
        latencies.add(other.latencies)
        gets += other.gets; getHits += other.getHits; sets += other.sets
        lockgens += other.lockgens; lockgenGenerate += other.lockgenGenerate; lockgenValue += other.lockgenValue
        busy += other.busy; setgens += other.setgens; notOwner += other.notOwner; errors += other.errors
    }

    var operations: Int { gets + sets + lockgens + setgens + errors }
}
