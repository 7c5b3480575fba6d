import FoundationEssentials

/// Whether systemd-resolved serves this host's name lookups, so that a per-link DNS server reaches applications
/// (`names = "auto"`). All three must hold:
/// 1. its runtime directory (`/run/systemd/resolve`) exists: it runs;
/// 2. lookups go through it: `/etc/resolv.conf` names its stub (`nameserver 127.0.0.53` or `127.0.0.54`), or the
///    `hosts:` line of `/etc/nsswitch.conf` has `resolve` (nss-resolve). A resolved that runs while resolv.conf lists
///    other servers ("foreign" mode, or its non-stub resolv.conf) is bypassed by glibc, so per-link settings would
///    change nothing there;
/// 3. `resolvectl status` answers (it is installed and resolved replies on D-Bus), within the runner's timeout.
/// The paths are parameters for tests.
struct ResolvedProbe: Sendable {
    var runtimeDirectory = "/run/systemd/resolve"
    var resolvConf = "/etc/resolv.conf"
    var nsswitch = "/etc/nsswitch.conf"

    /// Nil when systemd-resolved can be used; otherwise why not, for the log.
    func reasonUnusable(run: CommandRunner) -> String? {
        var isDirectory = false
        guard FileManager.default.fileExists(atPath: runtimeDirectory, isDirectory: &isDirectory), isDirectory else {
            return "\(runtimeDirectory) does not exist (systemd-resolved is not running)"
        }
        guard usesStub || usesNSSResolve else {
            return "neither \(resolvConf) (no nameserver 127.0.0.53) nor \(nsswitch) (no resolve on the hosts line) sends lookups to systemd-resolved"
        }
        do { try run(["resolvectl", "status"]) } catch {
            return "resolvectl does not answer: \(error)"
        }
        return nil
    }

    private var usesStub: Bool {
        lines(of: resolvConf).contains { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            return fields.count >= 2 && fields[0] == "nameserver" && (fields[1] == "127.0.0.53" || fields[1] == "127.0.0.54")
        }
    }

    private var usesNSSResolve: Bool {
        lines(of: nsswitch).contains { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            return fields.first == "hosts:" && fields.dropFirst().contains { $0 == "resolve" || $0.hasPrefix("resolve[") }
        }
    }

    private func lines(of path: String) -> [Substring] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { $0.prefix { $0 != "#" } }
    }
}
