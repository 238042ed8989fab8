import Logging

extension DogpileClient {
    /// Runs `body` while holding the named mutex `name`, renewing the hold every third of
    /// `lease` while the body runs, and always releasing it afterwards (also when the body throws).
    ///
    /// A body longer than `lease` is safe as long as the renewals get through; if one answers
    /// `NOT_OWNER` (the hold was lost, e.g. the daemon restarted), the loss is logged and the
    /// renewals stop, but the body is not interrupted: use ``MutexHold/token`` as a fencing token
    /// where that matters. Throws ``DogpileClientError/Code/busy`` if the mutex stays held for `wait`.
    ///
    /// ```swift
    /// try await client.withLock("nightly-report", lease: .seconds(10)) { hold in
    ///     try await buildReport(fencingToken: hold.token)
    /// }
    /// ```
    public func withLock<T>(
        _ name: String, lease: Duration = defaultLease, wait: Duration = defaultWait, shared: Bool = false,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (MutexHold) async throws -> T
    ) async throws -> T {
        let hold = try await lock(name, lease: lease, wait: wait, shared: shared)
        let logger = self.logger
        let renewal = Task {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: lease / 3)
                } catch {
                    return
                }
                do {
                    if try await !hold.renew(lease: lease) {
                        logger.error("lost the mutex while its body ran (renew answered NOT_OWNER)",
                                     metadata: ["name": "\(name)", "token": "\(hold.token)"])
                        return
                    }
                } catch {
                    logger.error("cannot renew the mutex", metadata: ["name": "\(name)", "error": "\(error)"])
                    return
                }
            }
        }
        let result: Result<T, any Error>
        do {
            result = .success(try await body(hold))
        } catch {
            result = .failure(error)
        }
        renewal.cancel()
        await renewal.value
        do {
            try await hold.unlock()
        } catch {
            // The connection is closed in that case, which ends the hold on the daemon too.
            logger.warning("cannot unlock the mutex", metadata: ["name": "\(name)", "error": "\(error)"])
        }
        return try result.get()
    }
}
