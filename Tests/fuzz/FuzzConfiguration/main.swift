@testable import RiftAgent
@testable import RiftHub
import CRiftFuzz
import Glibc

// libFuzzer runs the loop; the arguments are its own (`-help=1`).
var argumentCount = CommandLine.argc
var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argumentCount, &arguments, fuzzConfiguration))

/// libFuzzer entry point for the TOML configuration loaders (`FlatTOML` and our checks behind it). Only valid
/// UTF-8 is a config file (`String(contentsOfFile:encoding: .utf8)` refuses the rest). The first byte picks the file:
/// - even: the hub's `hub.toml` (`ConfigurationLayers.addTOML`, then `resolve()`);
/// - odd: the agent's `riftgate.toml` (`AgentConfiguration.parse`); a configuration that loads must load again,
///   unchanged, from the `tomlText` that `riftgate init` writes.
/// Malformed files must fail with the loader's error, never crash.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzConfiguration(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size > 0, let text = String(validating: UnsafeBufferPointer(start: data! + 1, count: size - 1), as: UTF8.self) else {
        return 0
    }
    if data![0] % 2 == 0 {
        var layers = ConfigurationLayers()
        do throws(ConfigurationError) {
            try layers.addTOML(text, path: "hub.toml")
            _ = try layers.resolve()
        } catch {}
        return 0
    }
    guard let configuration = try? AgentConfiguration.parse(text, path: "riftgate.toml") else { return 0 }
    let written = configuration.tomlText
    let again: AgentConfiguration
    do { again = try AgentConfiguration.parse(written, path: "written") } catch {
        fatalError("tomlText does not load again (\(error)):\n\(written)")
    }
    guard again == configuration else { fatalError("tomlText loads differently:\n\(text)\n--- written ---\n\(written)") }
    return 0
}
