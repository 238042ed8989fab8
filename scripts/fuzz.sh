#!/usr/bin/env bash
# Fuzz the memcached text parser and the client's reply decoder with libFuzzer + AddressSanitizer.
#
#   scripts/fuzz.sh [seconds]        (default 60, shared: half each, the parser first)
#
# Builds Sources/MemcacheProtocol/*.swift + Fuzz/ParserFuzzer.swift, and
# Sources/DogpileClient/{Reply*,CacheItem,LockgenBlock,ReplyDecoder*}.swift + Fuzz/ReplyDecoderFuzzer.swift, each as one
# module with plain swiftc (no SwiftPM, so it stays quick in CI) into Fuzz/build/. The parser's
# corpus is Fuzz/corpus/ (seeded from Fuzz/seeds/ plus a few inputs written here), the decoder's
# Fuzz/corpus-replies/ (seeded from Fuzz/reply-seeds/). Exits non-zero on any crash, timeout,
# leak or OOM (libFuzzer leaves crash-*/timeout-*/leak-*/oom-* files in Fuzz/artifacts/). Extra
# libFuzzer flags can be passed in FUZZ_FLAGS.
set -euo pipefail

seconds="${1:-60}"
case "$seconds" in
    ''|*[!0-9]*) echo "usage: $0 [seconds]" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fuzz="$root/Fuzz"
build="$fuzz/build"
corpus="$fuzz/corpus"
artifacts="$fuzz/artifacts"
binary="$build/parser-fuzzer"
decoder_binary="$build/reply-decoder-fuzzer"
decoder_corpus="$fuzz/corpus-replies"
# The time budget, split between the two fuzzers.
parser_seconds=$(( (seconds + 1) / 2 ))
decoder_seconds=$(( seconds - parser_seconds ))
swiftc="${SWIFTC:-swiftc}"

# libFuzzer's runtime (libclang_rt.fuzzer*.a) ships with the swift.org toolchain; with a
# distribution toolchain it comes from Debian's libclang-rt-<N>-dev. Install it when missing.
resource_dir="$("$swiftc" -print-target-info 2>/dev/null | sed -n 's/.*"runtimeResourcePath": "\(.*\)".*/\1/p' | head -n1)"
if ! ls "$resource_dir"/clang/lib/linux/libclang_rt.fuzzer-*.a >/dev/null 2>&1 \
    && ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        package="$(apt-cache search --names-only '^libclang-rt-[0-9]+-dev$' | awk '{print $1}' | sort -V | tail -n1)"
        [ -n "$package" ] || package=libclang-rt-dev
        echo "fuzz.sh: libFuzzer runtime not found; installing $package" >&2
        apt-get install -y "$package" >&2
    else
        echo "fuzz.sh: libFuzzer runtime (libclang_rt.fuzzer) not found" >&2
        exit 1
    fi
fi

mkdir -p "$build" "$corpus" "$decoder_corpus" "$artifacts"

echo "fuzz.sh: building $binary" >&2
# (ld.gold warns "Cannot export local symbol '__asan_report_*'" for every ASan stub: filtered.)
if ! "$swiftc" -sanitize=fuzzer,address -parse-as-library -O \
    -module-name ParserFuzz \
    -module-cache-path "$build/module-cache" \
    "$root"/Sources/MemcacheProtocol/*.swift "$fuzz/ParserFuzzer.swift" \
    -o "$binary" > "$build/build.log" 2>&1; then
    cat "$build/build.log" >&2
    echo "fuzz.sh: build failed" >&2
    exit 1
fi
grep -v "Cannot export local symbol '__asan_report" "$build/build.log" >&2 || true

echo "fuzz.sh: building $decoder_binary" >&2
if ! "$swiftc" -sanitize=fuzzer,address -parse-as-library -O \
    -module-name ReplyDecoderFuzz \
    -module-cache-path "$build/module-cache" \
    "$root"/Sources/DogpileClient/{Reply,CacheItem,ReplyValuesEnd,ReplyStat,ReplyStatus,LockgenBlock,ReplyDecoder,ReplyDecoder+LockgenBlocks}.swift \
    "$fuzz/ReplyDecoderFuzzer.swift" \
    -o "$decoder_binary" > "$build/build-decoder.log" 2>&1; then
    cat "$build/build-decoder.log" >&2
    echo "fuzz.sh: decoder fuzzer build failed" >&2
    exit 1
fi
grep -v "Cannot export local symbol '__asan_report" "$build/build-decoder.log" >&2 || true
if [ -d "$fuzz/reply-seeds" ]; then
    cp -f "$fuzz"/reply-seeds/* "$decoder_corpus"/ 2>/dev/null || true
fi

# Seeds: the tracked ones, plus a handful of valid and malformed requests.
if [ -d "$fuzz/seeds" ]; then
    cp -f "$fuzz"/seeds/* "$corpus"/ 2>/dev/null || true
fi
seed() { printf "$2" > "$corpus/gen-$1"; }
seed set-get        'set k 0 0 5\r\nhello\r\nget k\r\n'
seed gets-multi     'gets a b c d\r\n'
seed gat            'gat 100 a b\r\ngats -1 x\r\n'
seed cas            'cas k 1 0 3 42 noreply\r\nabc\r\n'
seed append         'append k 0 0 2\r\nxy\r\nprepend k 0 0 1\r\nz\r\n'
seed arith          'incr n 1\r\ndecr n 18446744073709551615\r\nincr n -1\r\n'
seed touch-delete   'touch k 10\r\ndelete k 0 noreply\r\ndelete k\r\n'
seed admin          'flush_all 5 noreply\r\nverbosity 1\r\nversion\r\nstats items\r\nstats\r\nquit\r\n'
seed bad-chunk      'set k 0 0 3\r\nabcd\r\nget k\r\n'
seed too-large      'set big 0 0 2000000\r\nxxxx\r\nget big\r\n'
seed bad-numbers    'set k x 0 1\r\na\r\nset k 0 0 -1\r\nincr k abc\r\ntouch k 1a\r\n'
seed bare-newline   '\n\r\n \r\nget\r\nmg k v\r\n'
seed http           'GET / HTTP/1.1\r\nHost: x\r\n'
seed binary         '\x80\x00\x00\x05'
seed many-tokens    'get a b c d e f g h i j k l m n o p q r s t u v w x y z aa bb\r\n'
seed nul            'get a\x00b c\r\nset k\x00 0 0 1\r\nz\r\n'
seed partial        'set k 0 0 10\r\nabc'
seed swallow-then   'set k 0 0 1048577\r\n\r\nversion\r\n'

echo "fuzz.sh: parser corpus $(ls "$corpus" | wc -l) files; running ${parser_seconds}s" >&2
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
cd "$build"
status=0
# shellcheck disable=SC2086
"$binary" "$corpus" \
    -max_total_time="$parser_seconds" -timeout=5 -rss_limit_mb=2048 -max_len=8192 \
    -dict="$fuzz/memcached.dict" \
    -artifact_prefix="$artifacts/" -print_final_stats=1 ${FUZZ_FLAGS:-} || status=$?

if [ "$status" -eq 0 ] && [ "$decoder_seconds" -gt 0 ]; then
    echo "fuzz.sh: reply decoder corpus $(ls "$decoder_corpus" | wc -l) files; running ${decoder_seconds}s" >&2
    # shellcheck disable=SC2086
    "$decoder_binary" "$decoder_corpus" \
        -max_total_time="$decoder_seconds" -timeout=5 -rss_limit_mb=2048 -max_len=8192 \
        -dict="$fuzz/replies.dict" \
        -artifact_prefix="$artifacts/" -print_final_stats=1 ${FUZZ_FLAGS:-} || status=$?
fi

if [ "$status" -ne 0 ]; then
    echo "fuzz.sh: libFuzzer failed (exit $status); reproducers:" >&2
    ls -1 "$artifacts" >&2 || true
    echo "fuzz.sh: rerun one with: $binary <file> (or $decoder_binary <file>)" >&2
    exit "$status"
fi
echo "fuzz.sh: no crashes in ${seconds}s" >&2
