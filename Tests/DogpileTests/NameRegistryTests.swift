@testable import Dogpile
import Foundation
import Synchronization
import Testing

/// A registered object that remembers its key and which creation produced it.
final class Widget: Sendable {
    let key: String
    let serial: Int
    init(key: String, serial: Int) {
        self.key = key
        self.serial = serial
    }
}

@Suite struct NameRegistryTests {
    @Test func sameKeySameObjectWhileReferenced() {
        let creations = Atomic(0)
        let registry = NameRegistry<String, Widget> { key in
            Widget(key: key, serial: creations.add(1, ordering: .relaxed).newValue)
        }
        let first = registry.get("a")
        let again = registry.get("a")
        let other = registry.get("b")
        #expect(first === again)
        #expect(first !== other)
        #expect(first.key == "a" && other.key == "b")
        #expect(creations.load(ordering: .relaxed) == 2)
        #expect(registry.contains("a"))
        #expect(registry.count == 2)
    }

    /// Gets `key` and returns only its serial, so no strong reference outlives the call.
    @inline(never)
    private func serialOfFreshGet(_ registry: NameRegistry<String, Widget>, _ key: String) -> Int {
        registry.get(key).serial
    }

    @Test func entryDisappearsWithTheLastReference() {
        let creations = Atomic(0)
        let registry = NameRegistry<String, Widget> { key in
            Widget(key: key, serial: creations.add(1, ordering: .relaxed).newValue)
        }
        var held: Widget? = registry.get("k")
        #expect(held?.serial == 1)
        #expect(registry.contains("k"))
        held = nil
        #expect(held == nil)
        #expect(!registry.contains("k"))
        #expect(registry.count == 0)
        #expect(serialOfFreshGet(registry, "k") == 2)  // a new object, not the old one
        #expect(creations.load(ordering: .relaxed) == 2)
    }

    @Test func getOrCreatePassesCallerArguments() {
        let registry = NameRegistry<String, Widget> { key in Widget(key: key, serial: 0) }
        let serial = 99
        let made = registry.get("x") { key in Widget(key: key, serial: serial) }
        #expect(made.serial == 99)
        let reused = registry.get("x") { key in Widget(key: key, serial: -1) }
        #expect(reused === made)
    }

    @Test func deadEntriesAreSwept() {
        let registry = NameRegistry<Int, Widget> { key in Widget(key: "\(key)", serial: key) }
        for key in 0..<1_000 { _ = registry.get(key) }
        #expect(registry.count == 0)
        #expect(registry.storedEntryCount < 200)
    }

    @Test func concurrentGetsShareOneObject() {
        let threads = 8
        let creations = Atomic(0)
        let registry = NameRegistry<String, Widget> { key in
            usleep(5_000)  // widen the race window inside the creator
            return Widget(key: key, serial: creations.add(1, ordering: .sequentiallyConsistent).newValue)
        }
        let start = DispatchSemaphore(value: 0)
        let got = Collector<Widget>()  // keeps every object alive until compared
        let ready = DispatchSemaphore(value: 0)
        startThread {
            _ = wait(ready, times: threads)
            for _ in 0..<threads { start.signal() }
        }
        let finished = runOnThreads(threads) { _ in
            ready.signal()
            _ = start.wait(timeout: .now() + 10)
            got.append(registry.get("shared"))
        }
        #expect(finished)
        let objects = got.all
        #expect(objects.count == threads)
        #expect(objects.allSatisfy { $0 === objects[0] })
        #expect(creations.load(ordering: .sequentiallyConsistent) == 1)
    }
}
