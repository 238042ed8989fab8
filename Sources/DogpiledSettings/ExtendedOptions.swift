/// memcached's `-o name[=value][,name[=value]...]`: a name that is a row of the settings table
/// (`idle_timeout`) sets it; every other name memcached 1.6.18 accepts is in
/// ``MemcachedExtendedOptions``, which implements, notes or refuses it; any other name is
/// refused, as memcached refuses it ("Illegal suboption"). Nothing is silently ignored.
public enum ExtendedOptions {
    /// Applies every `-o` argument in order. Returns one notice per option given that has no
    /// effect (each once, however often given), for the start-up log.
    @discardableResult
    public static func apply(_ arguments: [String], to configuration: inout ServerConfiguration) throws(SettingError) -> [String] {
        var notices: [String] = []
        for argument in arguments {
            for item in argument.split(separator: ",", omittingEmptySubsequences: true) {
                let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let name = parts[0].trimmingSpaces
                let value = parts.count == 2 ? parts[1] : nil
                if let setting = Settings.extendedOption(name) {
                    // memcached's switches (ssl_session_cache, ssl_kernel_tls) are bare names.
                    if value == nil, case .boolean = setting.kind {
                        try setting.apply(flag: "true", as: "-o \(name)", to: &configuration)
                        continue
                    }
                    guard let value else { throw SettingError(setting: "-o \(name)", message: "needs a value: -o \(name)=N") }
                    try setting.apply(flag: value, as: "-o \(name)", to: &configuration)
                } else if let option = MemcachedExtendedOptions.named(name) {
                    if let notice = try option.apply(value, to: &configuration), !notices.contains(notice) {
                        notices.append(notice)
                    }
                } else {
                    throw SettingError(setting: "-o \(name)", message: "unknown or unsupported option (memcached 1.6.18 says 'Illegal suboption'; see docs/compatibility.md#options)")
                }
            }
        }
        return notices
    }
}
