@testable import Coordination
import Dogpile
import Testing

/// The per-key state machines on their own: events in, actions out, no table, no clock.
@Suite struct EntryTransitionTests {
    let tokens = FencingTokens(start: 10)

    @Test func aLeaseRunsOutAndTheWaiterInTimeIsElected() {
        var lease = GenerationLease()
        var step = LockStep(now: 0, tokens: tokens)
        #expect(lease.lockgen(value: .missing, requester: requester(1), ticket: ticket(1), leaseMilliseconds: 100,
                              waitMilliseconds: 0, deadline: 0, &step) == .generate(token: 11))
        #expect(lease.lockgen(value: .missing, requester: requester(2), ticket: ticket(2), leaseMilliseconds: 50,
                              waitMilliseconds: 100, deadline: 100, &step) == .parked(nextCheck: 100))
        #expect(lease.lockgen(value: .missing, requester: requester(3), ticket: ticket(3), leaseMilliseconds: 50,
                              waitMilliseconds: 500, deadline: 500, &step) == .parked(nextCheck: 100))
        #expect(step.actions == [.joined(requester(1)), .joined(requester(2)), .joined(requester(3))])
        #expect(lease.nextDeadline == 100)

        var later = LockStep(now: 100, tokens: tokens)
        lease.advance(&later)
        #expect(later.actions == [
            .busy(ticket(2)), .left(requester(2)),
            .expired(requester(1)), .left(requester(1)),
            .grant(ticket(3), token: 12),
        ])
        #expect(lease.token == 12)
        #expect(lease.nextDeadline == 150)
        #expect(lease.participants == [requester(3)])
    }

    @Test func aStoreDeliversToEveryWaiterAndEmptiesTheEntry() {
        var lease = GenerationLease()
        var step = LockStep(now: 0, tokens: tokens)
        _ = lease.lockgen(value: .missing, requester: requester(1), ticket: ticket(1), leaseMilliseconds: 100, waitMilliseconds: 0, deadline: 0, &step)
        _ = lease.lockgen(value: .missing, requester: requester(2), ticket: ticket(2), leaseMilliseconds: 100, waitMilliseconds: 100, deadline: 100, &step)
        var store = LockStep(now: 10, tokens: tokens)
        lease.valueStored(&store)
        #expect(store.actions == [.left(requester(1)), .deliver(ticket(2)), .left(requester(2))])
        #expect(lease.isIdle)
    }

    @Test func aMutexQueueServesReadersTogetherAfterTheWriter() {
        var mutex = NamedMutex()
        var step = LockStep(now: 0, tokens: tokens)
        #expect(mutex.lock(mode: .exclusive, requester: requester(1), ticket: ticket(1), leaseMilliseconds: 100, waitMilliseconds: 0, deadline: 0, &step) == .locked(token: 11))
        #expect(mutex.lock(mode: .shared, requester: requester(2), ticket: ticket(2), leaseMilliseconds: 100, waitMilliseconds: 500, deadline: 500, &step) == .parked(nextCheck: 100))
        #expect(mutex.lock(mode: .shared, requester: requester(3), ticket: ticket(3), leaseMilliseconds: 100, waitMilliseconds: 500, deadline: 500, &step) == .parked(nextCheck: 100))
        var unlock = LockStep(now: 20, tokens: tokens)
        #expect(mutex.unlock(11, &unlock))
        #expect(unlock.actions == [.left(requester(1)), .grant(ticket(2), token: 12), .grant(ticket(3), token: 13)])
        #expect(mutex.holdCount == 2 && mutex.waiterCount == 0)
    }

    @Test func withdrawingAHolderServesTheQueueWithoutAnsweringTheLeaver() {
        var mutex = NamedMutex()
        var step = LockStep(now: 0, tokens: tokens)
        _ = mutex.lock(mode: .exclusive, requester: requester(1), ticket: ticket(1), leaseMilliseconds: 100, waitMilliseconds: 0, deadline: 0, &step)
        _ = mutex.lock(mode: .exclusive, requester: requester(2), ticket: ticket(2), leaseMilliseconds: 100, waitMilliseconds: 500, deadline: 500, &step)
        var close = LockStep(now: 5, tokens: tokens)
        mutex.withdraw(requester(1), &close)
        #expect(close.actions == [.left(requester(1)), .grant(ticket(2), token: 12)])
    }
}
