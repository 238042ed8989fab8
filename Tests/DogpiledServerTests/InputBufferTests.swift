import Testing

@testable import EventLoop

#if canImport(Glibc)
import Glibc
#endif

/// The bounds on buffered input: per buffer, per server, and memory given back.
@Suite("Input buffers")
struct InputBufferTests {
    /// A connected pair of Unix stream sockets, non-blocking on the reading side.
    func socketPair() -> (reader: Int32, writer: Int32) {
        var descriptors: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &descriptors) == 0)
        _ = fcntl(descriptors[0], F_SETFL, fcntl(descriptors[0], F_GETFL) | O_NONBLOCK)
        return (descriptors[0], descriptors[1])
    }

    func send(_ descriptor: Int32, _ count: Int) {
        let bytes = [UInt8](repeating: 0x61, count: count)
        var offset = 0
        while offset < count {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + offset, count - offset) }
            guard written > 0 else { return }
            offset += written
        }
    }

    @Test("a request larger than the base buffer borrows from the budget and gives it back")
    func borrowsAndReturns() {
        let budget = InputBufferBudget(limit: 1 << 20)
        let buffer = InputBuffer(initialCapacity: 1024, maximumCapacity: 1 << 20, budget: budget)
        #expect(budget.heldBytes == 1024)
        #expect(buffer.reserve(total: 100_000))
        #expect(budget.borrowedBytes >= 100_000)
        #expect(budget.heldBytes == 1024 + budget.borrowedBytes)
        buffer.shrinkIfIdle()
        #expect(budget.borrowedBytes == 0)
        #expect(buffer.capacityBytes == 1024)
    }

    @Test("the server's budget refuses what would pass it; the first holder keeps its share")
    func budgetRefuses() {
        let budget = InputBufferBudget(limit: 300_000)
        let first = InputBuffer(initialCapacity: 1024, budget: budget)
        let second = InputBuffer(initialCapacity: 1024, budget: budget)
        #expect(first.reserve(total: 200_000))
        #expect(!second.reserve(total: 200_000))
        #expect(second.capacityBytes == 1024)
        first.release()
        #expect(second.reserve(total: 200_000))
        second.release()
        #expect(budget.borrowedBytes == 0)
    }

    @Test("one buffer never passes its own maximum")
    func perBufferMaximum() {
        let buffer = InputBuffer(initialCapacity: 1024, maximumCapacity: 8192)
        #expect(buffer.reserve(total: 8192))
        #expect(!buffer.reserve(total: 8193))
    }

    @Test("reading: bytes, then over the limit once full, end of stream, and memory back after")
    func readingWithinBounds() {
        let (reader, writer) = socketPair()
        defer { close(reader) }
        let budget = InputBufferBudget(limit: 16 * 1024)
        let buffer = InputBuffer(initialCapacity: 4096, maximumCapacity: 20 * 1024, budget: budget)
        #expect(buffer.read(from: reader) == .wouldBlock)
        send(writer, 64 * 1024)
        var total = 0
        var outcome = InputBuffer.ReadOutcome.wouldBlock
        for _ in 0..<100 {
            outcome = buffer.read(from: reader)
            guard case .read(let count) = outcome else { break }
            total += count
        }
        #expect(outcome == .overLimit)
        #expect(total == buffer.readableCount)
        #expect(total <= 20 * 1024)
        #expect(budget.borrowedBytes <= 16 * 1024)
        buffer.release()
        #expect(budget.borrowedBytes == 0)
        close(writer)
        // The rest still arrives, then the end of stream.
        var ended = false
        for _ in 0..<1000 {
            let next = buffer.read(from: reader)
            if next == .endOfStream { ended = true; break }
            buffer.consume(buffer.readableCount)
        }
        #expect(ended)
    }
}
