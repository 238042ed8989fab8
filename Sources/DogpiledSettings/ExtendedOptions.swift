/// memcached's `-o name=value[,name=value...]`: the names dogpiled implements are rows of the
/// settings table with an `extendedOption`; any other name is refused with the list of known
/// ones, never ignored (a drop-in must not silently run without a setting it was given).
public enum ExtendedOptions {
    /// Applies every `-o` argument in order.
    public static func apply(_ arguments: [String], to configuration: inout ServerConfiguration) throws(SettingError) {
        for argument in arguments {
            for item in argument.split(separator: ",", omittingEmptySubsequences: true) {
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                let name = parts[0].trimmingSpaces
                guard let setting = Settings.extendedOption(name) else {
                    let known = Settings.all.compactMap(\.extendedOption).joined(separator: ", ")
                    throw SettingError(setting: "-o \(name)", message: "not supported by dogpiled (supported: \(known))")
                }
                // memcached's switches (ssl_session_cache, ssl_kernel_tls) are bare names.
                if parts.count == 1, case .boolean = setting.kind {
                    try setting.apply(flag: "true", as: "-o \(name)", to: &configuration)
                    continue
                }
                guard parts.count == 2 else {
                    throw SettingError(setting: "-o \(name)", message: "needs a value: -o \(name)=N")
                }
                try setting.apply(flag: parts[1], as: "-o \(name)", to: &configuration)
            }
        }
    }
}
