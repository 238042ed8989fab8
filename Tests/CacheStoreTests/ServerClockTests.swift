import CacheStore
import Foundation
import Synchronization
import Testing

/// memcached's coarse clock and its `realtime()` exptime conversion (spec §8).
@Suite("ServerClock")
struct ServerClockTests {
    static let t0: Int64 = 1_700_000_000

    @Test func startsAtTwo() {
        let clock = ServerClock(unixNow: Self.t0)
        #expect(clock.now == 2)
        #expect(clock.epoch == Self.t0 - 2)
        #expect(clock.unixTime(of: clock.now) == Self.t0)
        #expect(ServerClock.maximumRelativeExptime == 2_592_000)
    }

    @Test func defaultStartIsTheWallClock() {
        let clock = ServerClock()
        let wall = Int64(Date().timeIntervalSince1970)
        #expect(abs(clock.unixTime(of: clock.now) - wall) <= 2)
    }

    @Test func tickFollowsTheGivenTime() {
        let clock = ServerClock(unixNow: Self.t0)
        clock.tick(unixNow: Self.t0 + 5)
        #expect(clock.now == 7)
        clock.tick(unixNow: Self.t0 + 5)
        #expect(clock.now == 7)
        clock.tick(unixNow: Self.t0 + 86_400)
        #expect(clock.now == 86_402)
        #expect(clock.unixTime(of: clock.now) == Self.t0 + 86_400)
    }

    @Test func tickNeverGoesBelowTwo() {
        let clock = ServerClock(unixNow: Self.t0)
        clock.tick(unixNow: Self.t0 - 100)
        #expect(clock.now == 2)
    }

    /// Item 10: the wall clock jumps an hour back, then a day forward; expiry follows only the
    /// monotonic clock, as memcached's does.
    @Test func ticksFollowTheMonotonicClockNotTheWallClock() {
        let monotonic = Atomic<Int64>(50_000)
        let clock = ServerClock(unixNow: Self.t0) { monotonic.load(ordering: .relaxed) }
        let expiry = clock.expiry(fromProtocol: 10)
        monotonic.add(5, ordering: .relaxed)
        clock.tick()
        #expect(clock.now == 7)
        #expect(expiry > clock.now)
        monotonic.add(5, ordering: .relaxed)
        clock.tick()
        #expect(clock.now == 12)
        #expect(expiry <= clock.now)
    }

    @Test func zeroMeansNever() {
        let clock = ServerClock(unixNow: Self.t0)
        #expect(clock.expiry(fromProtocol: 0) == 0)
    }

    @Test(arguments: [Int32(-1), -5, -2_592_000, Int32.min])
    func negativeIsAlreadyExpired(exptime: Int32) {
        let clock = ServerClock(unixNow: Self.t0)
        let expiry = clock.expiry(fromProtocol: exptime)
        #expect(expiry != 0)
        #expect(expiry <= clock.now)
    }

    @Test func relativeUpToThirtyDays() {
        let clock = ServerClock(unixNow: Self.t0)
        clock.tick(unixNow: Self.t0 + 10)
        #expect(clock.expiry(fromProtocol: 1) == clock.now + 1)
        #expect(clock.expiry(fromProtocol: 100) == clock.now + 100)
        #expect(clock.expiry(fromProtocol: 2_592_000) == clock.now + 2_592_000)
    }

    @Test func absoluteAboveThirtyDays() {
        let clock = ServerClock(unixNow: Self.t0)
        let now = Int32(Self.t0)
        #expect(clock.expiry(fromProtocol: now + 100) == clock.now + 100)
        #expect(clock.expiry(fromProtocol: now) == clock.now)
        #expect(clock.unixTime(of: clock.expiry(fromProtocol: now + 12_345)) == Self.t0 + 12_345)
        #expect(clock.expiry(fromProtocol: Int32.max) == UInt32(Int64(Int32.max) - clock.epoch))
    }

    @Test(arguments: [Int32(2_592_001), 1_000_000_000, Int32(ServerClockTests.t0 - 2), Int32(ServerClockTests.t0 - 3)])
    func absoluteInThePastIsExpired(exptime: Int32) {
        let clock = ServerClock(unixNow: Self.t0)
        let expiry = clock.expiry(fromProtocol: exptime)
        #expect(expiry != 0)
        #expect(expiry <= clock.now)
    }

    @Test func absoluteJustPassedIsExpired() {
        // "now+1 when the clock has already passed it": expired.
        let clock = ServerClock(unixNow: Self.t0)
        clock.tick(unixNow: Self.t0 + 2)
        let expiry = clock.expiry(fromProtocol: Int32(Self.t0 + 1))
        #expect(expiry <= clock.now)
    }

    @Test func concurrentReadersSeeMonotonicTicks() async {
        let clock = ServerClock(unixNow: Self.t0)
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for second in 1...10_000 { clock.tick(unixNow: Self.t0 + Int64(second)) }
                return true
            }
            for _ in 0..<3 {
                group.addTask {
                    var last: UInt32 = 0
                    for _ in 0..<10_000 {
                        let now = clock.now
                        if now < last { return false }
                        last = now
                    }
                    return true
                }
            }
            for await monotonic in group { #expect(monotonic) }
        }
        #expect(clock.now == 10_002)
    }
}
