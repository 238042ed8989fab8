// libFuzzer target for the client's reply decoder (Sources/DogpileClient/ReplyDecoder.swift).
//
// Built by scripts/fuzz.sh together with the reply types (Reply, CacheItem, ReplyValuesEnd,
// ReplyStat, ReplyStatus, LockgenBlock) and ReplyDecoder(+LockgenBlocks).swift from Sources/DogpileClient
// as ONE module (they use neither Foundation nor NIO), so ReplyDecoder & co. are in scope.
//
// Each input is the byte stream a daemon sends on one connection:
//   1. Whole: all bytes at once; replies are decoded and consumed until the decoder needs more
//      bytes or refuses the stream.
//   2. Split: the same bytes arrive in chunks (cut points derived from the input, and fixed-size
//      chunks); after each chunk the buffer is decoded as ReplyHandler does (one decoder, the
//      buffer always starting at the current reply).
// The decoder is mode-driven (`mlockgen`'s blocks are decoded only when the request asked for
// them), so each stream is decoded twice: every reply in the plain mode, and with the mode of
// reply i taken from bit i of the input's hash (as ReplyHandler sets it per request).
// `consumed` must be within the buffer and positive, and the sequence of replies (with their
// absolute end offsets) must not depend on how the stream was split. A refusal is compared by
// where it happened, not by its message.
//
// Buffers handed to the decoder end at the end of an exact-size allocation, so ASan reports any
// read past the received bytes.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum TraceEntry: Equatable {
    case reply(Reply, end: Int)
    case invalid(at: Int)
}

/// Decodes `stream` as it arrives in pieces ending at `cuts` (the last cut is the stream's end).
/// Reply i is decoded in `.lockgenBlocks` mode when bit i % 64 of `modes` is set.
func decodeStream(_ stream: UnsafeRawBufferPointer, cuts: [Int], modes: UInt64) -> [TraceEntry] {
    var decoder = ReplyDecoder()
    var trace: [TraceEntry] = []
    var start = 0  // absolute offset of the current reply
    for cut in cuts where cut > start {
        while start < cut {
            // An exact-size copy of the bytes received so far, from the current reply on.
            let count = cut - start
            let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 1)
            defer { copy.deallocate() }
            copy.copyMemory(from: UnsafeRawBufferPointer(rebasing: stream[start..<cut]))
            decoder.mode = (modes >> UInt64(trace.count % 64)) & 1 == 1 ? .lockgenBlocks : .reply
            let step = decoder.decode(UnsafeRawBufferPointer(copy))
            switch step {
            case .needMoreBytes:
                break
            case .reply(let reply, let consumed):
                precondition(consumed > 0 && consumed <= count, "consumed \(consumed) of \(count)")
                start += consumed
                trace.append(.reply(reply, end: start))
                continue
            case .invalid:
                trace.append(.invalid(at: start))
                return trace
            }
            break
        }
    }
    return trace
}

func fnv(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
    return hash
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let data = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 1), alignment: 1)
    defer { data.deallocate() }
    if size > 0 { data.copyMemory(from: UnsafeRawBufferPointer(start: start, count: size)) }
    let bytes = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(data)[0..<size])

    guard size > 0 else {
        _ = decodeStream(bytes, cuts: [size], modes: 0)
        return 0
    }
    for modes in [0, fnv(bytes) | 1] {
        check(bytes, modes: modes)
    }
    return 0
}

/// Decodes `bytes` whole, split at points derived from the input, and in small chunks: the
/// replies must be the same.
func check(_ bytes: UnsafeRawBufferPointer, modes: UInt64) {
    let size = bytes.count
    let whole = decodeStream(bytes, cuts: [size], modes: modes)

    var hash = fnv(bytes)
    var cuts: [Int] = []
    for _ in 0..<(1 + Int(hash % 4)) {
        hash = hash &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        cuts.append(Int((hash >> 33) % UInt64(size + 1)))
    }
    cuts.append(size)
    cuts.sort()
    let split = decodeStream(bytes, cuts: cuts, modes: modes)
    precondition(split == whole, "split at \(cuts) decoded differently")

    if size <= 4096 {
        let chunk = 1 + Int(bytes[size - 1] % 16)
        let chunked = decodeStream(bytes, cuts: Array(stride(from: chunk, to: size, by: chunk)) + [size], modes: modes)
        precondition(chunked == whole, "chunks of \(chunk) decoded differently")
    }
}
