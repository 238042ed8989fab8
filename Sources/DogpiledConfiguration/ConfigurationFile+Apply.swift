extension ConfigurationFile {
    /// Writes every setting the file sets into `configuration` (file over defaults). Each value
    /// was checked when the file was read; an error here still names the file and line.
    public func apply(to configuration: inout ServerConfiguration) throws {
        for (key, value) in values {
            guard let setting = Settings.named(key) else { continue }
            do {
                try setting.apply(file: value, to: &configuration)
            } catch {
                throw ConfigurationError(path: path, line: lines[key], setting: key, message: error.message)
            }
        }
        if !regions.isEmpty { configuration.regions = regions }
    }
}
