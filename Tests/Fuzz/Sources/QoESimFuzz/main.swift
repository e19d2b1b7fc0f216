import Foundation
// The fuzzer's entry point. SwiftPM links an executable's own main, so this main hands
// control to libFuzzer's driver (LLVMFuzzerRunDriver), which calls
// LLVMFuzzerTestOneInput with each input.

@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    fuzzOne(bytes)
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
_ = FuzzContext.shared  // fail early on a bad QOESIM_FUZZ_TARGET
exit(LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput))
