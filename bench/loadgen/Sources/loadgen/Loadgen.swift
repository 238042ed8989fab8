import ArgumentParser
import Histogram
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Pipelined load against a memcached-protocol server: prints throughput and latency
/// percentiles (from request written to reply read, per request, through the pipeline).
@main
struct Loadgen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pipelined memcached-protocol load generator (kv: get/set mix; lock: lockgen/setgen stampede).")

    @Option(help: "Server host.") var host = "127.0.0.1"
    @Option(help: "Server port.") var port: Int
    @Option(name: [.short, .long], help: "Connections.") var connections = 25
    @Option(name: [.short, .long], help: "Requests kept outstanding per connection.") var depth = 16
    @Option(help: "Event loop threads of the generator (pin with taskset).") var threads = 1
    @Option(help: "Key space: keys key:0 ..< key:N.") var keys = 100_000
    @Option(help: "Key distribution: uniform or zipfian.") var distribution = "uniform"
    @Option(help: "Zipfian skew (YCSB's 0.99).") var zipfTheta = 0.99
    @Option(help: "Value size in bytes.") var valueSize = 100
    @Option(help: "sets:gets ratio of the kv workload, e.g. 1:10.") var ratio = "1:10"
    @Option(help: "Workload: kv (get/set) or lock (lockgen, then setgen when granted).") var workload = "kv"
    @Option(help: "lockgen lease_ms.") var leaseMs = 1000
    @Option(help: "lockgen wait_ms (a waiter holds its connection's pipeline).") var waitMs = 50
    @Option(help: "exptime of setgen values, seconds (short: they go stale and stampede again).") var lockExptime = 1
    @Option(help: "This many hot keys (key:0 ..< key:N) get --hot-fraction of the requests.") var hotKeys = 0
    @Option(help: "Share of requests sent to the hot keys (0...1).") var hotFraction = 0.0
    @Option(help: "Measured seconds.") var duration = 10.0
    @Option(help: "Unmeasured seconds first.") var warmup = 1.0
    @Option(help: "The server's pid: also report its CPU time and ops per server CPU-second (Linux).") var serverPid: Int32?
    @Flag(inversion: .prefixedNo, help: "Store every key before a kv run, so gets hit.") var prefill = true

    func validate() throws {
        guard connections > 0, depth > 0, threads > 0, keys > 0, valueSize >= 0, duration > 0, warmup >= 0 else {
            throw ValidationError("connections, depth, threads, keys, duration must be positive")
        }
        guard KeyChooser.Distribution(rawValue: distribution) != nil else { throw ValidationError("--distribution: uniform or zipfian") }
        guard Workload.Kind(rawValue: workload) != nil else { throw ValidationError("--workload: kv or lock") }
        guard parsedRatio != nil else { throw ValidationError("--ratio: SETS:GETS, e.g. 1:10") }
        guard (0...1).contains(hotFraction), hotKeys >= 0, hotKeys <= keys else { throw ValidationError("--hot-fraction 0...1, --hot-keys <= --keys") }
    }

    private var parsedRatio: (Int, Int)? {
        let parts = ratio.split(separator: ":").compactMap { Int($0) }
        guard parts.count == 2, parts[0] >= 0, parts[1] >= 0, parts[0] + parts[1] > 0 else { return nil }
        return (parts[0], parts[1])
    }

    func run() throws {
        let (sets, gets) = parsedRatio!
        let chooser = KeyChooser(count: keys, distribution: KeyChooser.Distribution(rawValue: distribution)!,
                                 theta: zipfTheta, hotKeys: hotKeys, hotFraction: hotFraction)
        let load = Workload(kind: Workload.Kind(rawValue: workload)!, setWeight: sets, getWeight: gets, keys: chooser,
                            value: [UInt8](repeating: UInt8(ascii: "v"), count: valueSize),
                            leaseMilliseconds: leaseMs, waitMilliseconds: waitMs, lockExptime: lockExptime)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        defer { try? group.syncShutdownGracefully() }
        if prefill && load.kind == .kv { try runPrefill(group: group, load: load) }

        let loops = (0..<threads).map { _ in group.next() }
        let recorders = loops.map { _ in Recorder() }
        var channels: [Channel] = []
        for index in 0..<connections {
            let loopIndex = index % threads
            let recorder = recorders[loopIndex]
            let seed = UInt64(index + 1) &* 0x9E37_79B9_7F4A_7C15
            let channel = try ClientBootstrap(group: loops[loopIndex])
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            PipelineHandler(workload: load, depth: depth, recorder: recorder, seed: seed))
                    }
                }
                .connect(host: host, port: port).wait()
            channels.append(channel)
        }
        sleep(seconds: warmup)
        try setRecording(true, loops: loops, recorders: recorders)
        let start = NIODeadline.now()
        let serverCPUStart = serverPid.flatMap { ProcessCPU.seconds(pid: $0) }
        sleep(seconds: duration)
        try setRecording(false, loops: loops, recorders: recorders)
        let serverCPUEnd = serverPid.flatMap { ProcessCPU.seconds(pid: $0) }
        let elapsed = Double((NIODeadline.now() - start).nanoseconds) / 1e9
        for channel in channels { channel.close(promise: nil) }
        let total = Recorder()
        for (loop, recorder) in zip(loops, recorders) {
            try loop.submit { total.merge(recorder) }.wait()
        }
        var serverCPU: Double?
        if let serverCPUStart, let serverCPUEnd { serverCPU = serverCPUEnd - serverCPUStart }
        report(total, elapsed: elapsed, serverCPU: serverCPU, load: load)
    }

    private func setRecording(_ on: Bool, loops: [EventLoop], recorders: [Recorder]) throws {
        for (loop, recorder) in zip(loops, recorders) {
            try loop.submit { recorder.recording = on }.wait()
        }
    }

    private func runPrefill(group: EventLoopGroup, load: Workload) throws {
        let loop = group.next()
        let done = loop.makePromise(of: Void.self)
        let channel = try ClientBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(PrefillHandler(done: done)) }
            }
            .connect(host: host, port: port).wait()
        var start = 0
        while start < keys {
            let end = min(keys, start + 1000)
            var buffer = channel.allocator.buffer(capacity: (end - start) * (48 + load.value.count))
            for key in start..<end {
                buffer.writeStaticString("set ")
                Workload.writeKey(key, into: &buffer)
                buffer.writeStaticString(" 0 0 ")
                Workload.writeDecimal(load.value.count, into: &buffer)
                buffer.writeStaticString(" noreply\r\n")
                buffer.writeBytes(load.value)
                buffer.writeStaticString("\r\n")
            }
            try channel.writeAndFlush(buffer).wait()
            start = end
        }
        try channel.writeAndFlush(ByteBuffer(string: "version\r\n")).wait()
        try done.futureResult.wait()
        try channel.close().wait()
    }

    private func sleep(seconds: Double) {
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }

    private func report(_ total: Recorder, elapsed: Double, serverCPU: Double?, load: Workload) {
        let microseconds = { (percentile: Double) -> String in
            String(format2: Double(total.latencies.valueAtPercentile(percentile)) / 1000)
        }
        let throughput = Double(total.operations) / elapsed
        let shape = load.kind == .kv ? "\(ratio) sets:gets" : "lockgen/setgen (lease \(leaseMs) ms, wait \(waitMs) ms, exptime \(lockExptime) s)"
        print("loadgen: \(connections) connections x \(depth) deep, \(shape), \(keys) keys \(distribution)"
              + (hotKeys > 0 ? " (\(hotKeys) hot keys get \(hotFraction))" : "") + ", \(valueSize) B values, \(String(format2: elapsed)) s")
        print("throughput \(Int(throughput)) ops/s  p50 \(microseconds(50)) us  p99 \(microseconds(99)) us  p999 \(microseconds(99.9)) us  max \(microseconds(100)) us")
        if load.kind == .kv {
            print("gets \(total.gets) (hits \(total.getHits))  sets \(total.sets)  errors \(total.errors)")
        } else {
            print("lockgens \(total.lockgens) (GEN \(total.lockgenGenerate), value \(total.lockgenValue), BUSY \(total.busy))  setgens \(total.setgens) (NOT_OWNER \(total.notOwner))  errors \(total.errors)")
        }
        // the reply counts in the RESULT line too, so a script can tell that gets hit or locks were granted
        var extra = load.kind == .kv ? " gets=\(total.gets) hits=\(total.getHits)"
            : " lockgens=\(total.lockgens) gen=\(total.lockgenGenerate) value=\(total.lockgenValue) busy=\(total.busy)"
            + " setgens=\(total.setgens) not_owner=\(total.notOwner)"
        if let serverCPU, serverCPU > 0 {
            let perCPU = Int(Double(total.operations) / serverCPU)
            print("server CPU \(String(format2: serverCPU)) s: \(perCPU) ops per server CPU-second")
            extra += " server_cpu_s=\(String(format2: serverCPU)) ops_per_server_cpu_s=\(perCPU)"
        }
        print("RESULT ops_per_sec=\(Int(throughput)) p50_us=\(microseconds(50)) p99_us=\(microseconds(99)) p999_us=\(microseconds(99.9)) errors=\(total.errors)\(extra)")
    }
}

extension String {
    /// `value` with two decimals, without Foundation's String(format:).
    init(format2 value: Double) {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        self = "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
