@testable import Coordination
import Testing

@Suite struct DeadlineHeapTests {
    @Test func popsInDeadlineOrderAfterMovesAndRemovals() {
        var heap = DeadlineHeap()
        for index in 0..<100 { heap.schedule(key("k\(index)"), at: Int64((index * 37) % 100)) }
        heap.schedule(key("k5"), at: -1)
        heap.schedule(key("k6"), at: 1000)
        heap.schedule(key("k7"), at: nil)
        #expect(heap.count == 99)
        #expect(heap.first?.key == key("k5"))
        var last = Int64.min
        while let (deadline, name) = heap.first {
            #expect(deadline >= last)
            last = deadline
            heap.schedule(name, at: nil)
        }
        #expect(last == 1000)
    }
}
