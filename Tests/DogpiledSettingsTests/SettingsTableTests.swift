import CacheStore
import DogpiledSettings
import Testing

/// The settings table itself: names, flags, units and ranges, read by every source.
@Suite("Settings table")
struct SettingsTableTests {
    @Test("every config key, flag and -o name appears once")
    func unique() {
        let keys = Settings.all.map(\.key)
        #expect(Set(keys).count == keys.count)
        let flags = Settings.all.flatMap(\.flags)
        #expect(Set(flags).count == flags.count)
        let options = Settings.all.compactMap(\.extendedOption)
        #expect(Set(options).count == options.count)
    }

    @Test("flags keep memcached's units: -m bare is megabytes, -I bare is bytes", arguments: [
        ("-m", "64", 64 << 20), ("-m", "1g", 1 << 30), ("-m", "512m", 512 << 20),
        ("-I", "1048576", 1 << 20), ("-I", "512k", 512 << 10), ("-I", "2m", 2 << 20),
    ])
    func flagUnits(flag: String, text: String, bytes: Int) throws {
        var configuration = ServerConfiguration()
        let setting = try #require(Settings.flag(flag))
        try setting.apply(flag: text, as: flag, to: &configuration)
        #expect(setting.value(in: configuration) == .integer(bytes))
    }

    @Test("numbers that would overflow are refused with a message, never trapped", arguments: [
        ("-m", "8796093022208"), ("-m", "9223372036854775807"), ("-m", "99999999999999999999"), ("-m", "9999999t"),
        ("-I", "9223372036854775807g"), ("-c", "99999999999"), ("-t", "-1"), ("-p", "65536"), ("-b", "4294967296"),
        ("-R", "0"), ("--lock-wait-ms", "600001"), ("--max-locks", "0"), ("--tcp-keepalive-idle", "0"),
    ])
    func overflowRefused(flag: String, text: String) throws {
        var configuration = ServerConfiguration()
        let setting = try #require(Settings.flag(flag))
        #expect(throws: SettingError.self) { try setting.apply(flag: text, as: flag, to: &configuration) }
        #expect(configuration == ServerConfiguration(), "a refused value changes nothing")
    }

    @Test("region budgets whose sum overflows are an error, not a trap")
    func regionSumOverflow() {
        var configuration = ServerConfiguration()
        configuration.regions = [
            RegionSettings(name: "a", memoryBytes: Int.max / 2 + 1),
            RegionSettings(name: "b", memoryBytes: Int.max / 2 + 1),
        ]
        #expect(throws: SettingError.self) { try ConfigurationValidation.validate(configuration) }
        configuration.regions = [RegionSettings(name: "a", memoryBytes: 63 << 20), RegionSettings(name: "b", memoryBytes: 1 << 20)]
        #expect(throws: SettingError.self) { try ConfigurationValidation.validate(configuration) }
        configuration.regions = [RegionSettings(name: "a", memoryBytes: 62 << 20), RegionSettings(name: "b", memoryBytes: 1 << 20)]
        #expect(throws: Never.self) { try ConfigurationValidation.validate(configuration) }
    }

    @Test("a hand-built out-of-range configuration fails validation instead of overflowing later")
    func handBuilt() {
        var configuration = ServerConfiguration()
        configuration.memoryLimitMegabytes = 8_796_093_022_208
        #expect(throws: SettingError.self) { try ConfigurationValidation.validate(configuration) }
        configuration = ServerConfiguration()
        configuration.pidFile = ""
        #expect(throws: SettingError.self) { try ConfigurationValidation.validate(configuration) }
    }

    @Test("--region sizes need a unit as in the file; a bare number names the units")
    func regionArgument() throws {
        let region = try RegionSettingsTable.parse(argument: "s:memory=16m,exptime=60,stale_ttl=5,lock_wait_ms=70")
        #expect(region == RegionSettings(name: "s", memoryBytes: 16 << 20, defaultExptime: 60, staleTTL: 5, lockWaitMilliseconds: 70))
        do {
            _ = try RegionSettingsTable.parse(argument: "s:memory=16")
            Issue.record("a bare region memory was accepted")
        } catch {
            #expect(error.message.contains("k, m, g"), "\(error)")
        }
        #expect(throws: SettingError.self) { try RegionSettingsTable.parse(argument: "s:memory=16m,stale_ttl=-1") }
        #expect(throws: SettingError.self) { try RegionSettingsTable.parse(argument: "s:memory=99999999999999999999t") }
    }

    @Test("a region's early-recompute beta: a number in 0...100, from the flag and the file")
    func regionBeta() throws {
        #expect(try RegionSettingsTable.parse(argument: "s:memory=1m,beta=0.5").earlyRecomputeBeta == 0.5)
        #expect(try RegionSettingsTable.parse(argument: "s:memory=1m,beta=2").earlyRecomputeBeta == 2)
        #expect(try RegionSettingsTable.parse(argument: "s:memory=1m").earlyRecomputeBeta == 1)
        for bad in ["-1", "101", "nan", "inf", "lots"] {
            #expect(throws: SettingError.self) { try RegionSettingsTable.parse(argument: "s:memory=1m,beta=\(bad)") }
        }
        var settings = RegionSettings(name: "s")
        try RegionSettingsTable.apply(key: "beta", file: .decimal(0.25), to: &settings)
        #expect(settings.earlyRecomputeBeta == 0.25)
        try RegionSettingsTable.apply(key: "beta", file: .integer(0), to: &settings)
        #expect(settings.earlyRecomputeBeta == 0)
        #expect(throws: SettingError.self) { try RegionSettingsTable.apply(key: "beta", file: .string("1"), to: &settings) }
    }

    @Test("-o takes idle_timeout, alone or in a comma list; bad values and unknown names are refused")
    func extendedOptions() throws {
        var configuration = ServerConfiguration()
        try ExtendedOptions.apply(["idle_timeout=30"], to: &configuration)
        #expect(configuration.idleTimeoutSeconds == 30)
        try ExtendedOptions.apply(["idle_timeout=5,idle_timeout=7"], to: &configuration)
        #expect(configuration.idleTimeoutSeconds == 7)
        #expect(throws: SettingError.self) { try ExtendedOptions.apply(["lru_segmented"], to: &configuration) }
        #expect(throws: SettingError.self) { try ExtendedOptions.apply(["idle_timeout=5,hashpower=5"], to: &configuration) }
        #expect(throws: SettingError.self) { try ExtendedOptions.apply(["idle_timeout"], to: &configuration) }
        #expect(throws: SettingError.self) { try ExtendedOptions.apply(["idle_timeout=-1"], to: &configuration) }
    }

    @Test("memcached's other -o names: noted once without effect, mapped, or refused with the reason")
    func memcachedExtendedOptions() throws {
        var configuration = ServerConfiguration()
        let notices = try ExtendedOptions.apply(["modern,hashpower=20,modern", "slab_automove"], to: &configuration)
        #expect(notices.count == 3)
        #expect(notices.first == "-o modern has no effect in dogpiled: memcached 1.6.18's 'modern' changes nothing either")
        #expect(configuration == ServerConfiguration(), "an option without effect changes nothing")
        try ExtendedOptions.apply(["read_buf_mem_limit=32"], to: &configuration)
        #expect(configuration.inputBufferLimitBytes == 32 << 20)
        #expect {
            try ExtendedOptions.apply(["ext_path=/tmp/x:1g"], to: &configuration)
        } throws: { error in
            (error as? SettingError)?.message.hasPrefix("extstore") == true
        }
        let names = MemcachedExtendedOptions.all.map(\.name)
        #expect(Set(names).count == names.count)
        #expect(Set(names).isDisjoint(with: Settings.all.compactMap(\.extendedOption)))
    }

    @Test("the reload plan names every changed restart-only setting with both values")
    func reloadPlan() {
        let running = ServerConfiguration()
        var fresh = running
        fresh.requestsPerEvent = 5
        fresh.backlog = 10
        fresh.unixSocketMode = 0o755
        fresh.pidFile = "/run/x.pid"
        fresh.verbosity = 2
        fresh.lockWaitMilliseconds = 1
        let plan = ReloadPlan(running: running, fresh: fresh)
        #expect(plan.needsRestart.map(\.key) == ["unix_mask", "requests_per_event", "backlog", "pidfile"])
        #expect(plan.needsRestart.map(\.description).contains("backlog 1024 -> 10"))
        #expect(ReloadPlan(running: running, fresh: running).needsRestart.isEmpty)
    }

    @Test("every restart-only setting is noticed by the reload plan")
    func everyRestartSettingIsCompared() throws {
        for setting in Settings.all where setting.reload == .restart {
            var fresh = ServerConfiguration()
            let changed: SettingValue = switch setting.kind {
            case .integer(let range, _): .integer(range.lowerBound == setting.value(in: fresh).integerValue ? range.upperBound : range.lowerBound)
            case .decimal(let range): .decimal(range.upperBound)
            case .size(let range, _): .integer(range.upperBound / 2 / (1 << 20) * (1 << 20))
            case .boolean: .boolean(!(setting.value(in: fresh) == .boolean(true)))
            case .path: .string("/elsewhere")
            case .addresses: .strings(["10.0.0.1"])
            case .octalMode: .integer(0o711)
            case .character: .string("#")
            }
            switch changed {
            case .integer(let value) where setting.key == "unix_mask": try setting.apply(file: .string(String(value, radix: 8)), to: &fresh)
            case .integer(let value): if case .size = setting.kind { try setting.apply(flag: "\(value)b", as: setting.key, to: &fresh) } else { try setting.apply(file: .integer(value), to: &fresh) }
            case .decimal(let value): try setting.apply(file: .decimal(value), to: &fresh)
            case .boolean(let value): try setting.apply(file: .boolean(value), to: &fresh)
            case .string(let value): try setting.apply(file: .string(value ?? ""), to: &fresh)
            case .strings(let value): try setting.apply(file: .strings(value), to: &fresh)
            }
            #expect(ReloadPlan(running: ServerConfiguration(), fresh: fresh).needsRestart.map(\.key) == [setting.key])
        }
    }
}

extension SettingValue {
    var integerValue: Int? { if case .integer(let value) = self { value } else { nil } }
}

@Suite("Settings table: administrative switches")
struct AdministrativeSwitchTests {
    @Test("-D keeps the first character as memcached does; the file takes exactly one")
    func delimiter() throws {
        let setting = try #require(Settings.flag("-D"))
        var configuration = ServerConfiguration()
        try setting.apply(flag: "#", as: "-D", to: &configuration)
        #expect(configuration.statPrefixDelimiter == UInt8(ascii: "#"))
        try setting.apply(flag: "/x", as: "-D", to: &configuration)
        #expect(configuration.statPrefixDelimiter == UInt8(ascii: "/"))
        #expect(throws: SettingError.self) { try setting.apply(flag: "", as: "-D", to: &configuration) }
        #expect(throws: SettingError.self) { try setting.apply(file: .string("::"), to: &configuration) }
        try setting.apply(file: .string("|"), to: &configuration)
        #expect(configuration.statPrefixDelimiter == UInt8(ascii: "|"))
    }

    @Test("the switches default as memcached's do and are read from the file")
    func switches() throws {
        var configuration = ServerConfiguration()
        #expect(!configuration.shutdownEnabled && configuration.dumpEnabled && configuration.flushEnabled)
        #expect(configuration.watchEnabled && !configuration.detailEnabled)
        for key in ["shutdown_command", "detail_enabled"] {
            try #require(Settings.named(key)).apply(file: .boolean(true), to: &configuration)
        }
        for key in ["dump_enabled", "flush_enabled", "watch_enabled"] {
            try #require(Settings.named(key)).apply(file: .boolean(false), to: &configuration)
        }
        #expect(configuration.shutdownEnabled && !configuration.dumpEnabled && !configuration.flushEnabled)
        #expect(!configuration.watchEnabled && configuration.detailEnabled)
    }
}
