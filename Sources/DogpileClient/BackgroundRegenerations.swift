import Synchronization

/// Regenerations running in the background (early recompute, stale copies), so a process can let
/// them finish before it exits: a process that exits mid-regeneration drops its lease, and the
/// next caller in the fleet regenerates the key again.
final class BackgroundRegenerations: Sendable {
    private let running = Mutex<[UInt64: Task<Void, Never>]>([:])
    private let nextID = Atomic<UInt64>(0)

    /// Runs `body` detached from the caller (its actor and cancellation must not hold up or cut
    /// short a regeneration the caller has already been answered for), tracked until it ends.
    func start(_ body: @escaping @Sendable () async -> Void) {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).newValue
        // Inserted under the lock the task's own removal takes, so it cannot be removed first.
        running.withLock { tasks in
            tasks[id] = Task.detached { [self] in
                await body()
                _ = running.withLock { $0.removeValue(forKey: id) }
            }
        }
    }

    /// Returns once no regeneration is running, including any started meanwhile.
    func waitForAll() async {
        while true {
            let tasks = running.withLock { Array($0.values) }
            if tasks.isEmpty { return }
            for task in tasks { await task.value }
        }
    }
}
