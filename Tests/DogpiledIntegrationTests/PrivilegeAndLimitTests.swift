import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

private let isRoot = geteuid() == 0
private let hasNobody = getpwnam("nobody") != nil
private let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// A line of /proc/PID/status.
private func procLine(_ pid: pid_t, _ file: String, _ prefix: String) -> String? {
    let text = (try? String(contentsOfFile: "/proc/\(pid)/\(file)", encoding: .utf8)) ?? ""
    return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.map(String.init)
}

/// Privileges, as memcached 1.6.18 handles them (issue 8, item 15).
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
}
