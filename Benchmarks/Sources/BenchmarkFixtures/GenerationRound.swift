import CacheStore
import Coordination
import Dogpile
import MemcacheProtocol

/// One key's regeneration as the server runs it (`Connection+Locking.swift`): `lockgen` on a
/// missing key is granted (`GEN <token>`), and `setgen` with that token stores the value, ends
/// the lease and answers every waiter. Requests are parsed from buffers made once; the setgen's
/// token is written into its line in place.
public final class GenerationRound: @unchecked Sendable {
    /// The server's layers.
    public let layers: ServerLayers
    /// `lockgen <key> 30000`.
    public let lockgenInput: RequestBuffer
    /// `setgen <key> <token> 0 0 5` and its data block.
    public let setgenInput: RequestBuffer
    private let tokenField: DecimalField
    private var parser: TextParser
    /// The holder: one connection.
    public let holder = Requester(worker: 0, connection: 1)
    /// Value bytes the fast path read (so reading them is not optimised away).
    public private(set) var answeredBytes = 0
    private var sequence: UInt64 = 0

    /// A round on `key` (ASCII, without spaces) over `layers`.
    public init(layers: ServerLayers, key: String) {
        self.layers = layers
        lockgenInput = RequestBuffer("lockgen \(key) 30000\r\n")
        setgenInput = RequestBuffer("setgen \(key) 00000000000000000000 0 0 5\r\nvalue\r\n")
        tokenField = setgenInput.field(after: "setgen \(key) ", width: 20)
        parser = TextParser(limits: layers.limits)
    }

    /// The next ticket of `requester` (each request that may wait has its own).
    public func ticket(for requester: Requester) -> WaiterTicket {
        sequence &+= 1
        return WaiterTicket(requester: requester, sequence: sequence)
    }

    /// Parses the `lockgen` line and decides it for `requester` as the server does: the store
    /// alone answers a fresh value (nil: a HIT written under the shard lock, nothing held);
    /// anything else goes through the lease table.
    public func lockgen(as requester: Requester) -> LockgenOutcome<HeldItem>? {
        let buffer = lockgenInput.bytes
        guard case .command(.lockgen(let keySpan, let lease, let wait, _), _) = parser.parse(buffer) else {
            fatalError("the lockgen line did not parse")
        }
        let keyBytes = keySpan.bytes(in: buffer)
        let region = layers.regions.region(for: keyBytes)
        if region.store.readIfFresh(keyBytes, { item in answeredBytes &+= item.valueLength }) == .fresh { return nil }
        let outcome = layers.leases.lockgen(
            LockKey(keyBytes), requester: requester, ticket: ticket(for: requester),
            leaseMilliseconds: lease, waitMilliseconds: wait ?? region.lockWaitMilliseconds
        ) {
            let (freshness, item) = region.store.generationLookup(keyBytes)
            defer { item?.release() }
            return (GenerationDecision.ValueState(freshness), item.map(HeldItem.init))
        }
        if case .generate = outcome { region.store.markWinTokenSent(keyBytes) }
        return outcome
    }

    /// Writes `token` into the `setgen` line, parses it and runs it as the server does.
    /// Returns the table's answer: nil for `NOT_OWNER`, else whether the value was stored.
    public func setgen(token: UInt64) -> Bool? {
        tokenField.write(token)
        let buffer = setgenInput.bytes
        guard case .command(.storage(let request), _) = parser.parse(buffer), request.verb == .setgen else {
            fatalError("the setgen line did not parse")
        }
        let keyBytes = request.key.bytes(in: buffer)
        let region = layers.regions.region(for: keyBytes)
        var held: Int64?
        let result = layers.leases.setgen(LockKey(keyBytes), token: request.unique) { lease -> HeldItem? in
            let (outcome, item) = region.store.storeReturningItem(
                .set, key: keyBytes, flags: request.flags,
                exptime: layers.clock.expiry(fromProtocol: region.effectiveExptime(request.exptime)),
                value: request.data.bytes(in: buffer), keepingOnFailure: true,
                regenerationMilliseconds: UInt16(clamping: lease.heldMilliseconds))
            defer { item?.release() }
            guard outcome == .stored else { return nil }
            held = lease.heldMilliseconds
            return item.map(HeldItem.init)
        }
        if let held { region.recordRegeneration(milliseconds: held) }
        return result
    }

    /// Deletes the key, so that the next `lockgen` misses again.
    public func forget() {
        let buffer = lockgenInput.bytes
        guard case .command(.lockgen(let keySpan, _, _, _), _) = parser.parse(buffer) else {
            fatalError("the lockgen line did not parse")
        }
        let keyBytes = keySpan.bytes(in: buffer)
        layers.regions.region(for: keyBytes).store.delete(keyBytes)
    }
}
