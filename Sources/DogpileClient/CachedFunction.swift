/// A function whose results are cached in a ``Region``, made by ``Region/cached(namespace:key:_:)``
/// (dogpile.cache's `cache_on_arguments`). Call it like the function it wraps.
///
/// The cache key of an argument is `"<namespace>|<key(argument)>"`, then the region's usual
/// mangling (``KeyMangler``): a region `user` and namespace `load_user` store `load_user(42)` as
/// `user:load_user|42`. dogpile.cache names its keys `"<module>:<function>|<args joined by spaces>"`
/// (plus `|<namespace>` after the function name when given one): choose the namespace and the
/// key function so they match, and a Python `@region.cache_on_arguments()` function and this one
/// share their values.
public struct CachedFunction<Argument: Sendable, Value: Codable & Sendable>: Sendable {
    /// The region values are cached in.
    public let region: Region
    /// The first part of every key.
    public let namespace: String
    private let key: @Sendable (Argument) -> String
    private let function: @Sendable (Argument) async throws -> Value

    init(region: Region, namespace: String, key: @escaping @Sendable (Argument) -> String,
         function: @escaping @Sendable (Argument) async throws -> Value) {
        self.region = region
        self.namespace = namespace
        self.key = key
        self.function = function
    }

    /// The region key for `argument`: `"<namespace>|<key(argument)>"`.
    public func key(for argument: Argument) -> String {
        "\(namespace)|\(key(argument))"
    }

    /// The cached result for `argument`, computing it (in one caller fleet-wide) when missing.
    public func callAsFunction(_ argument: Argument) async throws -> Value {
        let function = self.function
        return try await region.getOrCreate(key(for: argument), as: Value.self) { try await function(argument) }
    }

    /// Forgets the cached result for `argument` (dogpile's `fn.invalidate(*args)`).
    public func invalidate(_ argument: Argument) async throws {
        try await region.delete(key(for: argument))
    }

    /// Computes the result for `argument` now and stores it (dogpile's `fn.refresh(*args)`).
    @discardableResult
    public func refresh(_ argument: Argument) async throws -> Value {
        let value = try await function(argument)
        try await region.set(key(for: argument), value)
        return value
    }

    /// Stores `value` as the result for `argument` without calling the function (`fn.set`).
    public func set(_ value: Value, for argument: Argument) async throws {
        try await region.set(key(for: argument), value)
    }

    /// The cached result for `argument`, or nil; never calls the function (`fn.get`).
    public func cachedValue(for argument: Argument) async throws -> Value? {
        try await region.get(key(for: argument), as: Value.self)
    }
}

extension Region {
    /// Wraps `function` so its results are cached in this region, keyed by `namespace` and the
    /// argument (see ``CachedFunction``). `key` turns an argument into the key's second part;
    /// by default `String(describing:)` (`42`, `ada`); for several arguments pass a tuple and a
    /// key that joins them with spaces as dogpile does: `key: { "\($0.0) \($0.1)" }`.
    ///
    /// ```swift
    /// let loadUser = users.cached(namespace: "load_user") { (id: Int) in try await database.user(id) }
    /// let ada = try await loadUser(42)
    /// ```
    public func cached<Argument: Sendable, Value: Codable & Sendable>(
        namespace: String,
        key: @escaping @Sendable (Argument) -> String = { String(describing: $0) },
        _ function: @escaping @Sendable (Argument) async throws -> Value
    ) -> CachedFunction<Argument, Value> {
        CachedFunction(region: self, namespace: namespace, key: key, function: function)
    }
}
