import DogpiledServer
import Logging

/// The settings in force, as log metadata for the start-up line.
enum EffectiveSettings {
    static func metadata(_ configuration: ServerConfiguration, ports: [Int]) -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            "version": "\(ServerState.version)",
            "listen": "\(configuration.unixSocketPath ?? configuration.listenAddresses.joined(separator: ","))",
            "port": "\(ports.map(String.init).joined(separator: ","))",
            "threads": "\(configuration.threads)",
            "memory_mb": "\(configuration.memoryLimitMegabytes)",
            "max_connections": "\(configuration.maxConnections)",
            "item_size_max": "\(configuration.itemSizeLimit)",
            "evictions": "\(configuration.evictionEnabled)",
            "cas_enabled": "\(configuration.casEnabled)",
            "max_locks": "\(configuration.maxLocks)",
            "lock_wait_ms": "\(configuration.lockWaitMilliseconds)",
            "idle_timeout": "\(configuration.idleTimeoutSeconds)",
            "state_dir": "\(configuration.stateDirectory ?? "none")",
        ]
        if !configuration.regions.isEmpty {
            metadata["regions"] = "\(configuration.regions.map(\.name).joined(separator: ","))"
        }
        return metadata
    }
}
