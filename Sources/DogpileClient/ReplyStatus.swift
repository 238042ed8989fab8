// No Foundation and no NIO here: the reply types and ReplyDecoder.swift build on their own (Fuzz/).

/// The status words of the text protocol and dogpiled's lock verbs.
public enum ReplyStatus: String, Sendable, Equatable, CaseIterable {
    /// A store succeeded.
    case stored = "STORED"
    /// add/replace/append/prepend did not store.
    case notStored = "NOT_STORED"
    /// cas: the item changed since it was read.
    case exists = "EXISTS"
    /// The key (or region) does not exist.
    case notFound = "NOT_FOUND"
    /// delete removed the item.
    case deleted = "DELETED"
    /// touch updated the exptime.
    case touched = "TOUCHED"
    /// flush_all, verbosity, invalidate.
    case ok = "OK"
    /// `stats reset`.
    case reset = "RESET"
    /// unlock released a mutex hold.
    case unlocked = "UNLOCKED"
    /// renew extended a mutex hold.
    case renewed = "RENEWED"
    /// unlockgen gave a generation lease back.
    case released = "RELEASED"
    /// The token does not name a live lease or hold.
    case notOwner = "NOT_OWNER"
    /// lock/rlock/lockgen waited `wait_ms` (or 0) without getting anything.
    case busy = "BUSY"
}
