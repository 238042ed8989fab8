import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

private let isRoot = geteuid() == 0
private let hasNobody = getpwnam("nobody") != nil
private let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// A field of /proc/PID/status or /proc/PID/limits.
private func procLine(_ pid: pid_t, _ file: String, _ prefix: String) -> String? {
    let text = (try? String(contentsOfFile: "/proc/\(pid)/\(file)", encoding: .utf8)) ?? ""
    return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.map(String.init)
}

/// Privileges and descriptor limits, as memcached 1.6.18 handles them (issue 8, items 7 and 15).
@Suite("Privileges and limits", .timeLimit(.minutes(2)))
struct PrivilegeAndLimitTests {
    @Test("as root without -u: refused as memcached refuses, exit 64", .enabled(if: isRoot))
    func rootWithoutUser() throws {
        let result = try TestServer.run(["-p", "0"], timeout: 5, exactly: true)
        #expect(result.status == 64, "exit status \(result.status)")
        #expect(result.stderr.contains("can't run as root without the -u switch"), "\(result.stderr)")
        #expect(!result.stderr.contains("USAGE"))
    }

    @Test("-u with an unknown user: memcached's message, exit 67", .enabled(if: isRoot))
    func unknownUser() throws {
        let result = try TestServer.run(["-p", "0", "-u", "no-such-user-dogpiled"], timeout: 5, exactly: true)
        #expect(result.status == 67, "exit status \(result.status)")
        #expect(result.stderr.contains("can't find the user no-such-user-dogpiled to switch to"), "\(result.stderr)")
    }

    @Test("-u drops root's supplementary groups along with its uid and gid", .enabled(if: isRoot && hasNobody))
    func supplementaryGroupsDropped() throws {
        // Give the parent extra groups the child would inherit, in a child shell (not in the test
        // process): setpriv --groups adds supplementary groups before exec.
        let wrapper = setpriv.map { [$0, "--groups", "0,4,6", "--"] } ?? []
        let port = try TestServer.freePort()
        let server = try TestServer.launch(["-l", "127.0.0.1", "-p", String(port), "-u", "nobody"], port: port,
                                           socketPath: nil, wrapper: wrapper)
        defer { #expect(server.stop(), "clean exit on SIGTERM") }
        try server.waitUntilReady()
        let uid = procLine(server.process.pid, "status", "Uid:") ?? ""
        let groups = procLine(server.process.pid, "status", "Groups:") ?? ""
        let nobody = getpwnam("nobody")!.pointee
        #expect(uid.split(separator: "\t").dropFirst().allSatisfy { $0 == "\(nobody.pw_uid)" }, "\(uid)")
        let list = groups.dropFirst("Groups:".count).split(whereSeparator: { $0 == " " || $0 == "\t" })
        #expect(list.allSatisfy { $0 == "\(nobody.pw_gid)" }, "supplementary groups left: \(groups)")
    }

    @Test("-c above the soft descriptor limit raises the limit and serves every client")
    func descriptorLimitRaised() throws {
        // Soft 64; hard stays where it is unless we are root (root may raise it anyway).
        let wrapper = ["/bin/sh", "-c", "ulimit -S -n 64 && exec \"$@\"", "sh"]
        let port = try TestServer.freePort()
        let server = try TestServer.launch(["-l", "127.0.0.1", "-p", String(port), "-c", "300", "-t", "2"], port: port,
                                           socketPath: nil, wrapper: wrapper)
        defer { #expect(server.stop(), "clean exit on SIGTERM") }
        try server.waitUntilReady()
        let limits = procLine(server.process.pid, "limits", "Max open files") ?? ""
        let soft = limits.split(separator: " ").compactMap { Int($0) }.first ?? 0
        #expect(soft >= 300, "\(limits)")
        #expect(server.log().contains("raised the open-files limit"), "one log line says so")
        // 250 clients at once: every one is served (without the raise, those past ~60 hang).
        var clients: [TestClient] = []
        defer { for client in clients { client.close() } }
        for _ in 0..<250 { clients.append(try server.connect(timeout: 5)) }
        for client in clients { #expect(try client.exchange("version\r\n").hasPrefix("VERSION ")) }
    }

    @Test("-c that the descriptor limit cannot fit: refused at start with memcached's message, exit 71")
    func descriptorLimitRefused() throws {
        // Soft and hard 64 for a user that may not raise them: not root, or root made nobody.
        let shell = ["/bin/sh", "-c", "ulimit -n 64 && exec \"$@\"", "sh"]
        let wrapper: [String]
        if isRoot {
            guard let setpriv, hasNobody else { return }
            wrapper = [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"] + shell
        } else {
            wrapper = shell
        }
        let result = try TestServer.run(["-p", "0", "-c", "300", "-u", "nobody"], timeout: 5, exactly: true, wrapper: wrapper)
        #expect(result.status == 71, "exit status \(result.status): \(result.stderr)")
        #expect(result.stderr.contains("failed to set rlimit for open files"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "one line: \(result.stderr)")
    }
}
