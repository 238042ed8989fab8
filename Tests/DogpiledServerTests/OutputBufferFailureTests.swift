import Testing

@testable import EventLoop

/// Issue 8 item 20: a refused append must be noticed, never leave a half reply that goes out.
@Suite("OutputBuffer failures")
struct OutputBufferFailureTests {
    final class Owner {}

    @Test func appendsThatLibeventRefusesMarkTheBufferFailed() {
        let buffer = OutputBuffer()
        buffer.append("VALUE k 0 5\r\n")
        #expect(!buffer.failed)
        buffer.refuseAppends()
        buffer.append("hello\r\n")
        #expect(buffer.failed)
    }

    @Test func aRefusedReserveMarksTheBufferFailed() {
        let buffer = OutputBuffer()
        buffer.refuseAppends()
        buffer.write(maximum: 64) { _ in 0 }
        #expect(buffer.failed)
    }

    @Test func aRefusedReferenceGivesItsRetainBack() {
        let buffer = OutputBuffer()
        buffer.refuseAppends()
        let before = OutputBuffer.referencedBytes
        weak var watched: Owner?
        do {
            let owner = Owner()
            watched = owner
            let bytes: [UInt8] = Array(repeating: 7, count: 100)
            bytes.withUnsafeBytes { buffer.appendReference($0, owner: owner) }
        }
        #expect(buffer.failed)
        #expect(watched == nil, "the owner must not leak when libevent refuses the reference")
        #expect(OutputBuffer.referencedBytes == before)
    }
}
