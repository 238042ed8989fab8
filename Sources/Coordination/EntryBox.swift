/// A lock-table entry behind a reference, so that the table mutates it where it lies (see
/// ``LockShard/entries``). Only touched under its shard's lock.
@usableFromInline
final class EntryBox<Entry> {
    @usableFromInline var entry: Entry

    @usableFromInline init(_ entry: Entry) {
        self.entry = entry
    }
}
