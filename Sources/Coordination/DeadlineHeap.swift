/// A min-heap of (deadline, key) with at most one deadline per key, which can be moved or removed
/// in O(log n): the lock tables' timers. Lease ends and waiters' deadlines fire from here, so
/// nothing scans the whole table once a second.
@usableFromInline
struct DeadlineHeap {
    private var items: [(deadline: Int64, key: LockKey)] = []

    @usableFromInline init() {}
    private var positions: [LockKey: Int] = [:]

    /// Keys with a deadline.
    @usableFromInline var count: Int { items.count }

    /// The earliest deadline and its key.
    @usableFromInline var first: (deadline: Int64, key: LockKey)? { items.first }

    /// The deadline of `key`, if it has one.
    @usableFromInline func deadline(of key: LockKey) -> Int64? {
        positions[key].map { items[$0].deadline }
    }

    /// Sets (or, with nil, removes) the deadline of `key`.
    @usableFromInline mutating func schedule(_ key: LockKey, at deadline: Int64?) {
        if let index = positions[key] {
            guard let deadline else {
                remove(at: index)
                return
            }
            let old = items[index].deadline
            guard old != deadline else { return }
            items[index].deadline = deadline
            if deadline < old { siftUp(index) } else { siftDown(index) }
        } else if let deadline {
            items.append((deadline, key))
            positions[key] = items.count - 1
            siftUp(items.count - 1)
        }
    }

    private mutating func remove(at index: Int) {
        let last = items.count - 1
        positions[items[index].key] = nil
        if index != last {
            items[index] = items[last]
            positions[items[index].key] = index
        }
        items.removeLast()
        if index < items.count {
            siftDown(index)
            siftUp(index)
        }
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].deadline < items[parent].deadline else { return }
            swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < items.count else { return }
            var smallest = left
            if left + 1 < items.count && items[left + 1].deadline < items[left].deadline { smallest = left + 1 }
            guard items[smallest].deadline < items[parent].deadline else { return }
            swapAt(parent, smallest)
            parent = smallest
        }
    }

    private mutating func swapAt(_ a: Int, _ b: Int) {
        items.swapAt(a, b)
        positions[items[a].key] = a
        positions[items[b].key] = b
    }
}
