#!/usr/bin/env bash
# run-cli-tests.sh GROUP... - tests of the `mmapobj` command-line tool (docs/CLI.md).
#
# Environment (set by ctest, see csrc/tools/CMakeLists.txt):
#   MMAPOBJ_CLI          the tool
#   MMAPOBJ_CLI_HELPER   test/cli/cli_helper.c built: fixtures + independent checks
#   MMAPOBJ_TEST_DIR     where to put temporary files (default /tmp)
#   MMAPOBJ_CLI_WRAPPER  optional command prefix for the tool (e.g. valgrind ...)
#   MMAPOBJ_TEST_EMULATOR  a cross build's emulator (e.g. qemu-aarch64 ...): the tool and the
#                        helper run under it
# Groups: usage stat get keys_dump load roundtrip verify compact progress npm_bin
# (default: all).
set -u

T=${MMAPOBJ_CLI:?set MMAPOBJ_CLI to the mmapobj tool}
H=${MMAPOBJ_CLI_HELPER:?set MMAPOBJ_CLI_HELPER to the cli_helper program}
EMU=${MMAPOBJ_TEST_EMULATOR:-}
W="${MMAPOBJ_CLI_WRAPPER:-}${EMU:+ $EMU}"
base=${MMAPOBJ_TEST_DIR:-/tmp}
mkdir -p "$base"
ROOT=$(mktemp -d "$base/cli.XXXXXX")
D=$ROOT # each group gets its own directory below (see the end)
FAILS=0
CURRENT=""

cleanup() {
    if [ "$FAILS" -eq 0 ]; then rm -rf "$ROOT"; else echo "(files kept in $ROOT)"; fi
}
trap cleanup EXIT

fail() {
    echo "FAIL [$CURRENT]: $*" >&2
    FAILS=$((FAILS + 1))
}

# cli ARGS...: runs the tool (through the wrapper, if any).
cli() {
    # shellcheck disable=SC2086
    $W "$T" "$@"
}

# run WANT ARGS...: runs the tool with stdout in $D/out, stderr in $D/err and checks
# the exit status. Extra stdin may be redirected by the caller.
run() {
    local want=$1
    shift
    cli "$@" >"$D/out" 2>"$D/err"
    local rc=$?
    # A sanitizer or valgrind report fails the test whatever the status was.
    if grep -qE 'Sanitizer|runtime error:|^==[0-9]+==' "$D/err"; then
        fail "mmapobj $*: memory error report: $(head -c 1500 "$D/err")"
        return 1
    fi
    if [ "$rc" -ne "$want" ]; then
        fail "mmapobj $* exited $rc, wanted $want; stderr: $(head -c 600 "$D/err")"
        return 1
    fi
    return 0
}

# has FILE TEXT: FILE contains the fixed string TEXT.
has() {
    grep -qF -- "$2" "$1" || fail "$1 lacks '$2'; it holds: $(head -c 600 "$1")"
}
hasnt() {
    if grep -qF -- "$2" "$1"; then fail "$1 unexpectedly contains '$2'"; fi
}
same() {
    cmp -s "$1" "$2" || fail "$1 and $2 differ: $(diff "$1" "$2" | head -20)"
}
size_of() { stat -c %s "$1"; }
commas() { sed -e ':a' -e 's/\B[0-9]\{3\}\>/,&/' -e 'ta' <<<"$1"; }

# start_writer FILE: a helper process holding FILE as its writer; sets WPID (the
# coprocess), WRITER_PID (the pid it reports), WIN (its stdin). stop_writer ends it.
start_writer() {
    local line
    coproc WRCO { $EMU "$H" "${2:-writer}" "$1" ${3:+"$3"}; }
    WPID=$WRCO_PID
    WIN=${WRCO[1]}
    read -r line WRITER_PID <&"${WRCO[0]}"
    [ "$line" = ready ] || fail "writer helper did not start on $1"
}
stop_writer() {
    eval "exec $WIN>&-"
    wait "$WPID" || fail "writer helper failed"
}
# start_reader FILE: a helper process that opened FILE as a reader; ask QUESTION
# sends a command and sets ANSWER; stop_reader ends it.
start_reader() {
    local line
    coproc RDCO { $EMU "$H" hold "$1"; }
    RPID=$RDCO_PID
    RIN=${RDCO[1]}
    ROUT=${RDCO[0]}
    read -r line <&"$ROUT"
    [ "$line" = ready ] || fail "reader helper did not start on $1"
}
ask() {
    echo "$1" >&"$RIN"
    read -r ANSWER <&"$ROUT"
}
stop_reader() {
    echo quit >&"$RIN"
    eval "exec $RIN>&-"
    wait "$RPID" || fail "reader helper failed"
}

helper() {
    $EMU "$H" "$@" || fail "cli_helper $* failed"
}

# ---------------------------------------------------------------------------------------
test_usage() {
    run 64 && true
    has "$D/err" "missing command"
    run 0 --help && has "$D/out" "Usage: mmapobj COMMAND"
    for c in stat get keys dump load verify compact; do
        has "$D/out" "  $c "
    done
    run 0 --version && has "$D/out" "mmapobj 1.0.0 (library 1.0.0, ABI 1, file format 1.0)"
    for c in stat get keys dump load verify compact; do
        run 0 "$c" --help && has "$D/out" "Usage: mmapobj $c"
        has "$D/out" "Exit status"
        run 0 help "$c" && has "$D/out" "Usage: mmapobj $c"
        run 0 "$c" -h && has "$D/out" "Usage: mmapobj $c"
    done
    run 64 frobnicate x && has "$D/err" "unknown command 'frobnicate'"
    run 64 help frobnicate && has "$D/err" "unknown command 'frobnicate'"
    run 64 --bogus && has "$D/err" "unknown option '--bogus'"
    run 64 stat --bogus f && has "$D/err" "--bogus"
    has "$D/err" "Try 'mmapobj stat --help'"
    run 64 stat && has "$D/err" "missing FILE"
    run 64 stat a b && has "$D/err" "too many arguments"
    run 64 get f && has "$D/err" "expected FILE and KEY"
    run 64 get --raw --json f k && has "$D/err" "exclude each other"
    run 64 get -b f 'not base64!' && has "$D/err" "not valid base64"
    run 64 keys && has "$D/err" "missing FILE"
    run 64 dump a b && has "$D/err" "too many arguments"
    run 64 load && has "$D/err" "missing FILE"
    run 64 load --buckets lots f && has "$D/err" "--buckets"
    run 64 load --max-size 0 f && has "$D/err" "--max-size"
    run 64 load --max-size && has "$D/err" "needs an argument"
    run 64 verify && has "$D/err" "missing FILE"
    run 64 compact && has "$D/err" "missing FILE"
    run 64 compact a b c && has "$D/err" "too many arguments"

    # Files that cannot be opened, or are not mmapobj files.
    for c in stat keys dump verify; do
        run 66 "$c" "$D/missing.mo" && has "$D/err" "$D/missing.mo"
    done
    run 66 get "$D/missing.mo" k && has "$D/err" "$D/missing.mo"
    run 66 compact "$D/missing.mo" && has "$D/err" "$D/missing.mo"
    run 66 stat "$D" && true
    echo "this is not a map" >"$D/text.mo"
    for c in stat keys dump verify; do
        run 2 "$c" "$D/text.mo" && has "$D/err" "$D/text.mo"
    done
    : >"$D/empty.mo"
    run 2 stat "$D/empty.mo" && has "$D/err" "$D/empty.mo"
    run 2 compact "$D/text.mo" && has "$D/err" "$D/text.mo"
    same "$D/text.mo" <(echo "this is not a map")
    run 73 load "$D/no/such/dir/f.mo" </dev/null && has "$D/err" "$D/no/such/dir/f.mo"
    run 73 load "$D" </dev/null && has "$D/err" "$D"
    run 66 load "$D/f.mo" "$D" && has "$D/err" "it is a directory"
    # load never writes into a file that is not an mmapobj file.
    echo '{"key":"a","number":1}' | cli load "$D/text.mo" 2>"$D/err"
    [ $? -eq 2 ] || fail "load into a text file should exit 2"
    same "$D/text.mo" <(echo "this is not a map")
    run 66 load "$D/f.mo" "$D/missing.jsonl" && has "$D/err" "$D/missing.jsonl"
}

# ---------------------------------------------------------------------------------------
test_stat() {
    local f=$D/s.mo
    helper fill "$f" 1000
    read -r ns nn nb <<<"$($EMU "$H" kinds 1000)"
    run 0 stat "$f"
    has "$D/out" "format:          1.0"
    has "$D/out" "keys:            1,000"
    has "$D/out" "  strings:       $ns"
    has "$D/out" "  numbers:       $nn"
    has "$D/out" "  bytes:         $nb"
    has "$D/out" "file size:       $(commas "$(size_of "$f")") bytes"
    has "$D/out" "writer:          none"
    run 0 stat --json "$f"
    has "$D/out" "\"count\":1000,\"count_string\":$ns,\"count_number\":$nn,\"count_bytes\":$nb"
    has "$D/out" "\"file_size\":$(size_of "$f"),"
    has "$D/out" "\"format_major\":1,\"format_minor\":0"
    has "$D/out" "\"writer_locked\":false,\"writer_pid\":null}"
    node -e 'const s=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));
             if (s.bucket_count < 1000 || Math.abs(s.load_factor - 1000/s.bucket_count) > 1e-9
                 || s.used_bytes > s.file_size) process.exit(1)' "$D/out" ||
        fail "stat --json: not JSON or inconsistent: $(cat "$D/out")"

    # A writer holding the file shows up with its pid; stat does not disturb it.
    start_writer "$f"
    run 0 stat "$f" && has "$D/out" "writer:          held by pid $WRITER_PID"
    run 0 stat --json "$f" && has "$D/out" "\"writer_locked\":true,\"writer_pid\":$WRITER_PID}"
    stop_writer
    run 0 stat "$f" && has "$D/out" "writer:          none"
    # A lock holder that records no pid in the file (as mmapobj compact): held, pid unknown
    # (the pid in the file belongs to the last writer, which has exited).
    start_writer "$f" lockonly
    run 0 stat "$f" && has "$D/out" "writer:          held (pid unknown)"
    run 0 stat --json "$f" && has "$D/out" '"writer_locked":true,"writer_pid":null}'
    run 75 compact "$f" && has "$D/err" "open for writing by another process"
    run 75 load "$f" </dev/null && true
    stop_writer
}

# ---------------------------------------------------------------------------------------
test_get() {
    local f=$D/g.mo
    helper sample "$f"
    run 0 get "$f" greeting && same "$D/out" <(printf 'hello, world\n')
    run 0 get --raw "$f" greeting && same "$D/out" <(printf 'hello, world')
    run 0 get "$f" pi && same "$D/out" <(printf '3.141592653589793\n')
    run 0 get "$f" tenth && same "$D/out" <(printf '0.1\n')
    run 0 get "$f" negzero && same "$D/out" <(printf -- '-0\n')
    run 0 get "$f" nan && same "$D/out" <(printf 'NaN\n')
    run 0 get "$f" inf && same "$D/out" <(printf 'Infinity\n')
    run 0 get "$f" ninf && same "$D/out" <(printf -- '-Infinity\n')
    run 0 get "$f" tiny && same "$D/out" <(printf '5e-324\n')
    run 0 get "$f" big && same "$D/out" <(printf '1e+21\n')
    run 0 get "$f" int && same "$D/out" <(printf '42\n')
    run 0 get -r "$f" int && same "$D/out" <(printf '42')
    run 0 get "$f" blob && same "$D/out" <(printf 'AAEC//4=\n')
    run 0 get --raw "$f" blob && same "$D/out" <(printf '\000\001\002\377\376')
    run 0 get "$f" empty-bytes && same "$D/out" <(printf '\n')
    run 0 get "$f" empty-string && same "$D/out" <(printf '\n')
    run 0 get "$f" '' && same "$D/out" <(printf 'value of the empty key\n')
    run 0 get "$f" -- -dash && same "$D/out" <(printf 'starts with a dash\n')
    run 0 get "$f" unicode && same "$D/out" <(printf 'ключ ✓ 😀\n')
    run 0 get -r "$f" badutf8 && same "$D/out" <(printf '\303\050')
    # Keys a command line cannot carry, in base64: "nul\0key" and "\xff".
    run 0 get --key-base64 "$f" "$(printf 'nul\000key' | base64)" &&
        same "$D/out" <(printf 'a\000b\n')
    run 0 get -b "$f" /w== && same "$D/out" <(printf '1\n')
    run 0 get --json "$f" greeting && same "$D/out" <(printf '{"key":"greeting","string":"hello, world"}\n')
    run 0 get --json "$f" nan && same "$D/out" <(printf '{"key":"nan","number":"NaN"}\n')
    run 0 get -j -b "$f" /w== && same "$D/out" <(printf '{"key_base64":"/w==","number":1}\n')
    # Absent keys: status 1, nothing on stdout or stderr.
    run 1 get "$f" no-such-key && same "$D/out" /dev/null
    same "$D/err" /dev/null
    run 1 get "$f" nul && true
    cli get "$f" greeting >/dev/full 2>"$D/err"
    [ $? -eq 74 ] || fail "get to /dev/full should exit 74"
    has "$D/err" "writing standard output"
}

# ---------------------------------------------------------------------------------------
SAMPLE_DUMP='{"key":"greeting","string":"hello, world"}
{"key":"pi","number":3.141592653589793}
{"key":"tenth","number":0.1}
{"key":"negzero","number":-0}
{"key":"nan","number":"NaN"}
{"key":"inf","number":"Infinity"}
{"key":"ninf","number":"-Infinity"}
{"key":"tiny","number":5e-324}
{"key":"big","number":1e+21}
{"key":"int","number":42}
{"key":"blob","bytes":"AAEC//4="}
{"key":"empty-bytes","bytes":""}
{"key":"empty-string","string":""}
{"key":"","string":"value of the empty key"}
{"key":"nul\u0000key","string":"a\u0000b"}
{"key":"unicode","string":"ключ ✓ 😀"}
{"key":"badutf8","string_base64":"wyg="}
{"key":"esc","string":"\"\\\n\r\t\b\f\u0001/"}
{"key_base64":"/w==","number":1}
{"key":"-dash","string":"starts with a dash"}'

test_keys_dump() {
    local f=$D/d.mo
    helper sample "$f"
    printf '%s\n' "$SAMPLE_DUMP" | LC_ALL=C sort >"$D/want"
    run 0 dump "$f" && LC_ALL=C sort "$D/out" >"$D/got" && same "$D/got" "$D/want"
    same "$D/err" /dev/null
    # The same lines parse as JSON, and decode to what the helper stored.
    node -e '
      const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n");
      const m = new Map(lines.map((l) => { const o = JSON.parse(l); return [o.key ?? o.key_base64, o]; }));
      const ok = m.get("nul\0key").string === "a\0b" && m.get("unicode").string === "ключ ✓ 😀" &&
        m.get("esc").string === "\"\\\n\r\t\b\f\u0001/" && Object.is(m.get("negzero").number, -0) &&
        Buffer.from(m.get("blob").bytes, "base64").equals(Buffer.from([0, 1, 2, 255, 254])) &&
        m.get("").string === "value of the empty key" && m.get("tiny").number === 5e-324;
      process.exit(ok ? 0 : 1)' "$D/out" || fail "dump output does not decode to the stored pairs"

    sed -E 's/^(\{"key(_base64)?":"([^"\\]|\\.)*")(,.*)?\}$/\1}/' "$D/want" | LC_ALL=C sort >"$D/wantkeys"
    run 0 keys "$f" && LC_ALL=C sort "$D/out" >"$D/got" && same "$D/got" "$D/wantkeys"
    [ "$(wc -l <"$D/got")" -eq 20 ] || fail "keys printed $(wc -l <"$D/got") lines, wanted 20"

    # An empty map dumps nothing.
    cli load -q "$D/e2.mo" </dev/null || fail "load of empty input"
    run 0 dump "$D/e2.mo" && same "$D/out" /dev/null
    run 0 keys "$D/e2.mo" && same "$D/out" /dev/null

    # Output errors are reported, not ignored.
    helper fill "$D/big.mo" 20000
    cli dump "$D/big.mo" >/dev/full 2>"$D/err"
    [ $? -eq 74 ] || fail "dump to /dev/full should exit 74"
    has "$D/err" "writing standard output"
    # Streaming: a consumer that stops early ends the dump (SIGPIPE), it does not hang.
    local first
    first=$(cli dump "$D/big.mo" | head -n 1)
    case $first in '{"key'*) ;; *) fail "dump | head gave '$first'" ;; esac
    # A dump taken while a writer holds the file sees every pair.
    start_writer "$D/big.mo"
    run 0 dump "$D/big.mo" && [ "$(wc -l <"$D/out")" -eq 20000 ] ||
        fail "dump under a live writer: $(wc -l <"$D/out") lines"
    stop_writer
    # ... and while a writer keeps rewriting every value (reusing freed space) and adds and
    # deletes other keys: each key present throughout ("c<i>") is listed exactly once.
    start_writer "$D/churn.mo" churn 5000
    [ "$WRITER_PID" = "" ] || fail "churn helper: unexpected '$WRITER_PID'"
    local k
    for k in 1 2 3; do
        run 0 dump "$D/churn.mo" || break
        grep -o '^{"key":"c[0-9]*"' "$D/out" | sort | uniq -c | awk '$1 != 1' >"$D/dups"
        same "$D/dups" /dev/null
        [ "$(grep -c '^{"key":"c[0-9]*"' "$D/out")" -eq 5000 ] ||
            fail "dump under churn listed $(grep -c '^{"key":"c' "$D/out") of the 5000 stable keys"
        run 0 keys "$D/churn.mo" && [ "$(grep -c '^{"key":"c[0-9]*"}$' "$D/out")" -eq 5000 ] ||
            fail "keys under churn: $(grep -c '^{"key":"c' "$D/out") of 5000"
    done
    stop_writer
    run 0 verify -q "$D/churn.mo"
}

# ---------------------------------------------------------------------------------------
test_load() {
    local f=$D/l.mo
    # Whitespace, CRLF, blank lines, every escape, surrogate pairs, base64 forms.
    cat >"$D/in.jsonl" <<'EOF'
{"key":"a","string":"x"}
  { "string" : "reordered" , "key" : "b" }  

{"key":"c\u00e9\ud83d\ude00","string":"\u0041\/\"\\\b\f\n\r\t\u0000"}
{"key":"n1","number":-12.5e-3}
{"key":"n2","number":"-Infinity"}
{"key":"n3","number":0}
{"key":"n4","number":1E+2}
{"key_base64":"AP8=","bytes":""}
{"key":"s64","string_base64":"wyg="}
{"key":"dup","string":"first"}
{"key":"dup","string":"second"}
EOF
    printf '{"key":"crlf","number":7}\r\n{"key":"last","string":"no newline at the end"}' >>"$D/in.jsonl"
    run 0 load "$f" "$D/in.jsonl"
    has "$D/err" "stored 13 pairs from $D/in.jsonl (12 new, 1 replaced)"
    has "$D/err" "it holds 12 keys"
    hasnt "$D/err" $'\033'
    run 0 get "$f" b && same "$D/out" <(printf 'reordered\n')
    run 0 get -r "$f" "cé😀" && same "$D/out" <(printf 'A/"\\\b\f\n\r\t\000')
    run 0 get "$f" n1 && same "$D/out" <(printf -- '-0.0125\n')
    run 0 get "$f" n2 && same "$D/out" <(printf -- '-Infinity\n')
    run 0 get "$f" n4 && same "$D/out" <(printf '100\n')
    run 0 get -j -b "$f" AP8= && same "$D/out" <(printf '{"key_base64":"AP8=","bytes":""}\n')
    run 0 get -r "$f" s64 && same "$D/out" <(printf '\303\050')
    run 0 get "$f" dup && same "$D/out" <(printf 'second\n')
    run 0 get "$f" crlf && same "$D/out" <(printf '7\n')
    run 0 get "$f" last && same "$D/out" <(printf 'no newline at the end\n')
    run 0 verify -q "$f"

    # The very first pair may have an empty key and an empty value (no buffer yet).
    printf '{"key":"","bytes":""}\n' | cli load -q "$D/empty.mo" || fail "load of an empty pair"
    run 0 dump "$D/empty.mo" && same "$D/out" <(printf '{"key":"","bytes":""}\n')

    # Loading again from stdin: everything is a replacement. -q is silent.
    run 0 load "$f" <"$D/in.jsonl" && has "$D/err" "from <stdin> (0 new, 13 replaced)"
    run 0 load -q "$f" - <"$D/in.jsonl" && same "$D/err" /dev/null

    # Malformed lines: status 65, the message gives input:line:column, and the lines
    # before the bad one are stored (and said so).
    local bad
    while IFS='|' read -r bad where what; do
        rm -f "$D/m.mo"
        printf '{"key":"ok","number":1}\n%s\n{"key":"after","number":2}\n' "$bad" >"$D/bad.jsonl"
        run 65 load "$D/m.mo" "$D/bad.jsonl" || { echo "  (input line: $bad)" >&2; continue; }
        has "$D/err" "$D/bad.jsonl:2:$where: $what"
        has "$D/err" "stored 1 pairs"
        cli get "$D/m.mo" ok >/dev/null || fail "pair before the bad line not stored ($bad)"
        cli get "$D/m.mo" after >/dev/null && fail "pair after the bad line stored ($bad)"
    done <<'EOF'
[1]|1|expected '{'
{}|2|empty object
{"key":"k"}|1|record has no value member
{"string":"v"}|1|record has no "key"
{"key":"k","string":"v","number":1}|25|more than one value member
{"key":"k","key":"j","string":"v"}|12|more than one key member
{"key":"k","value":1}|12|unknown member
{"key":"k","string":"v",}|25|expected a member name
{"key":"k","string":"v"} x|26|unexpected text
{"key":"k","string":"v"|24|expected ',' or '}'
{"key":"k" "string":"v"}|12|expected ',' or '}'
{"key":"k","string":'v'}|21|expected a string
{"key":"k","number":01}|21|malformed number
{"key":"k","number":1.}|23|expected a digit after '.'
{"key":"k","number":+1}|21|expected a number
{"key":"k","number":.5}|21|expected a number
{"key":"k","number":1e}|23|expected a digit in the exponent
{"key":"k","number":NaN}|21|expected a number
{"key":"k","number":"nan"}|21|a number in quotes must be
{"key":"k","number":1e999}|21|number out of the range
{"key":"k","number":0x10}|21|malformed number
{"key":"k","bytes":"AAE"}|20|bad base64
{"key":"k","bytes":"AA=A"}|20|bad base64
{"key":"k","bytes":"AB=="}|20|bad base64
{"key":"k","string":"\x"}|22|bad escape
{"key":"k","string":"\u12"}|26|bad hex digit
{"key":"k","string":"\ud800"}|22|high surrogate
{"key":"k","string":"\udc00x"}|22|lone low surrogate
{"key":"k","string":"tab	inside"}|25|unescaped control character 0x09
{"key":"k","string":"unterminated}|21|unterminated string
EOF
    # Invalid UTF-8 and a raw NUL inside a JSON string.
    rm -f "$D/m.mo"
    printf '{"key":"ok","number":1}\n{"key":"k\377","string":"v"}\n' >"$D/bad.jsonl"
    run 65 load "$D/m.mo" "$D/bad.jsonl" && has "$D/err" "bad.jsonl:2:10: string is not valid UTF-8"
    printf '{"key":"ok","number":1}\n{"key":"k\000","string":"v"}\n' >"$D/bad.jsonl"
    run 65 load "$D/m.mo" "$D/bad.jsonl" && has "$D/err" "bad.jsonl:2:10: unescaped control character 0x00"

    # Other writers write the file meanwhile: load writes next to them (several writers share a
    # file), and both writers' pairs are there afterwards.
    rm -f "$D/shared.mo"
    start_writer "$D/shared.mo" churn 200
    run 0 load "$D/shared.mo" "$D/in.jsonl" && has "$D/err" "stored 13 pairs"
    stop_writer
    run 0 get "$D/shared.mo" last && same "$D/out" <(printf 'no newline at the end\n')
    $EMU "$H" has "$D/shared.mo" c199 || fail "the other writer's pairs are missing after load"
    run 0 verify -q "$D/shared.mo"
    # A writer that wants the file alone (exclusive, as compact does): load refuses with 75.
    start_writer "$f" lockonly
    run 75 load "$f" "$D/in.jsonl" && has "$D/err" "$f"
    stop_writer

    # The size limit: E_FULL is an I/O-class failure (74) naming the file.
    rm -f "$D/small.mo"
    awk 'BEGIN { for (i = 0; i < 20000; i++) printf "{\"key\":\"key%d\",\"string\":\"%0200d\"}\n", i, i }' >"$D/many.jsonl"
    run 74 load --max-size 1M "$D/small.mo" "$D/many.jsonl" && has "$D/err" "$D/small.mo"
    has "$D/err" "many.jsonl:"
    run 0 verify -q "$D/small.mo"
    # ^C while waiting for input: the pairs so far are kept and flushed, status 130.
    rm -f "$D/int.mo" "$D/fifo"
    mkfifo "$D/fifo"
    # (exec: so that $! is the tool itself, not a subshell around it)
    (exec $W "$T" load "$D/int.mo" "$D/fifo" 2>"$D/err") &
    local lpid=$! tries=0
    exec 7<>"$D/fifo" # (read-write: never blocks, even if the tool died)
    printf '{"key":"one","number":1}\n{"key":"two","number":2}\n' >&7
    until $EMU "$H" has "$D/int.mo" two 2>/dev/null; do
        tries=$((tries + 1))
        [ $tries -gt 200 ] && { fail "load did not store the piped pairs"; break; }
        sleep 0.05
    done
    kill -INT $lpid
    tries=0
    while kill -0 $lpid 2>/dev/null; do # never hang the suite on a tool that ignores ^C
        tries=$((tries + 1))
        if [ $tries -gt 200 ]; then
            fail "load did not stop on SIGINT"
            kill -KILL $lpid
            break
        fi
        sleep 0.05
    done
    wait $lpid
    local rc=$?
    exec 7>&-
    [ $rc -eq 130 ] || fail "interrupted load exited $rc, wanted 130"
    has "$D/err" "interrupted (signal 2); the pairs stored so far are kept"
    has "$D/err" "stored 2 pairs"
    run 0 get "$D/int.mo" two && same "$D/out" <(printf '2\n')
    run 0 verify -q "$D/int.mo"

    # A limit too small for even an empty new file is a usage error.
    rm -f "$D/tiny.mo"
    run 64 load --max-size 4K "$D/tiny.mo" </dev/null && has "$D/err" "--max-size is too small"

    # --buckets pre-sizes a new file's table.
    rm -f "$D/pre.mo"
    run 0 load -q --buckets 100000 "$D/pre.mo" "$D/many.jsonl"
    run 0 stat --json "$D/pre.mo" && has "$D/out" '"bucket_count":131072,'
}

# ---------------------------------------------------------------------------------------
test_roundtrip() {
    local n=100000
    helper fill "$D/a.mo" $n
    run 0 dump "$D/a.mo" && mv "$D/out" "$D/a.jsonl"
    [ "$(wc -l <"$D/a.jsonl")" -eq $n ] || fail "dump wrote $(wc -l <"$D/a.jsonl") lines"
    run 0 load "$D/b.mo" "$D/a.jsonl" && has "$D/err" "stored 100,000 pairs"
    # The loaded file holds exactly the generated pairs (checked through the library),
    helper check "$D/b.mo" $n
    # and dumps to the same pairs.
    run 0 dump "$D/b.mo" && mv "$D/out" "$D/b.jsonl"
    LC_ALL=C sort "$D/a.jsonl" >"$D/a.sorted"
    LC_ALL=C sort "$D/b.jsonl" >"$D/b.sorted"
    same "$D/a.sorted" "$D/b.sorted"
    # Every kind of tricky content is in there.
    for pat in '"key":""' '\u0000' '"key_base64":' '"string_base64":' '"number":"NaN"' \
        '"number":"-Infinity"' '"number":-0}' '"number":5e-324}' '"bytes":""' 'ключ' '😀'; do
        has "$D/a.sorted" "$pat"
    done
    # Numbers are in their shortest round-trip form, laid out as JavaScript prints them.
    node -e '
      const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n");
      let checked = 0;
      for (const l of lines) {
        const m = /"number":(-?[0-9][^}]*)}$/.exec(l);
        if (!m) continue;
        const v = JSON.parse(m[1]);
        const js = Object.is(v, -0) ? "-0" : String(v);
        if (js !== m[1]) { console.error("number " + m[1] + " is not shortest, JS says " + js); process.exit(1); }
        checked++;
      }
      if (checked < 20000) { console.error("only " + checked + " numbers"); process.exit(1); }' "$D/a.sorted" ||
        fail "numbers are not in shortest form"
    run 0 keys "$D/b.mo" && [ "$(wc -l <"$D/out")" -eq $n ] || fail "keys count"
    run 0 verify "$D/b.mo" && has "$D/out" "ok (100,000 keys"
}

# ---------------------------------------------------------------------------------------
test_verify() {
    helper fill "$D/v.mo" 5000
    run 0 verify "$D/v.mo" && has "$D/out" "$D/v.mo: ok (5,000 keys, "
    run 0 verify -q "$D/v.mo" && same "$D/out" /dev/null
    local mode
    for mode in record-kind record-klen number-vlen table-marker slot-range header-checksum; do
        cp "$D/v.mo" "$D/c.mo"
        helper corrupt "$D/c.mo" "$mode"
        run 2 verify "$D/c.mo" || { echo "  (corruption: $mode)" >&2; continue; }
        has "$D/err" "mmapobj verify: $D/c.mo: CORRUPT: "
        # The message says where: an offset (a number) follows.
        grep -qE 'offset [0-9]+|at [0-9]+|[0-9]{4,}' "$D/err" ||
            [ "$mode" = header-checksum ] || fail "$mode: message gives no offset: $(cat "$D/err")"
    done
    # Several files: every one is reported, the status is the worst.
    run 2 verify "$D/v.mo" "$D/c.mo" && has "$D/out" "$D/v.mo: ok" && has "$D/err" "$D/c.mo: CORRUPT"
    run 66 verify "$D/c.mo" "$D/missing.mo" && true
    # verify runs next to a live writer.
    start_writer "$D/v.mo"
    run 0 verify "$D/v.mo"
    stop_writer
}

# ---------------------------------------------------------------------------------------
test_compact() {
    local f=$D/c.mo n=3000
    helper overwrite "$f" $n 20
    chmod 600 "$f"
    local before after
    before=$(size_of "$f")
    run 0 dump "$f" && LC_ALL=C sort "$D/out" >"$D/before.sorted"
    run 0 stat --json "$f" && has "$D/out" "\"count\":$n,"

    # A reader that opened the old file before the compaction.
    start_reader "$f"

    run 0 compact "$f" && has "$D/out" "$f: compacted 3,000 keys: "
    after=$(size_of "$f")
    [ "$after" -lt $((before / 3)) ] || fail "compact: $before -> $after bytes is not a shrink"
    [ "$(stat -c %a "$f")" = 600 ] || fail "compact lost the permission bits: $(stat -c %a "$f")"
    ls -A "$D" | grep -q mmapobj-compact && fail "compact left a temporary directory"
    run 0 verify "$f"
    run 0 stat --json "$f" && has "$D/out" "\"count\":$n,"
    has "$D/out" '"free_bytes":0,'
    has "$D/out" '"bucket_count":4096,'
    run 0 dump "$f" && LC_ALL=C sort "$D/out" >"$D/after.sorted"
    same "$D/before.sorted" "$D/after.sorted"

    # Change the new file; the old reader keeps reading the old contents.
    helper set "$f" k5 changed-after-compact
    run 0 get "$f" k5 && same "$D/out" <(printf 'changed-after-compact\n')
    ask "get k5"
    [ "$ANSWER" = final-5 ] || fail "old reader read '$ANSWER' for k5, wanted final-5"
    ask "get k2999"
    [ "$ANSWER" = final-2999 ] || fail "old reader read '$ANSWER' for k2999"
    ask count
    [ "$ANSWER" = $n ] || fail "old reader counts $ANSWER"
    ask verify
    case $ANSWER in MMAPOBJ_OK*) ;; *) fail "old reader's file fails verify: $ANSWER" ;; esac
    stop_reader

    # compact FILE OUT: OUT is new, FILE is untouched; an existing OUT is refused.
    helper overwrite "$D/src.mo" 500 10
    cp "$D/src.mo" "$D/src.copy"
    run 0 compact "$D/src.mo" "$D/out.mo" && has "$D/out" "500 keys copied into $D/out.mo"
    same "$D/src.mo" "$D/src.copy"
    [ "$(size_of "$D/out.mo")" -lt "$(size_of "$D/src.mo")" ] || fail "OUT is not smaller"
    run 0 verify -q "$D/out.mo"
    cli dump "$D/src.mo" | LC_ALL=C sort >"$D/s1"
    cli dump "$D/out.mo" | LC_ALL=C sort >"$D/s2"
    same "$D/s1" "$D/s2"
    cp "$D/out.mo" "$D/out.copy"
    run 73 compact "$D/src.mo" "$D/out.mo" && has "$D/err" "$D/out.mo exists"
    same "$D/out.mo" "$D/out.copy"

    # Refuses while a writer holds FILE, names the writer, changes nothing.
    cp "$D/src.mo" "$D/src.copy"
    start_writer "$D/src.mo"
    run 75 compact "$D/src.mo" && has "$D/err" "open for writing by process $WRITER_PID"
    run 75 compact "$D/src.mo" "$D/out2.mo" && true
    [ -e "$D/out2.mo" ] && fail "compact created OUT although a writer holds FILE"
    stop_writer
    # (the writer's own open/close may rewrite the header, so compare the pairs)
    cli dump "$D/src.mo" | LC_ALL=C sort >"$D/s3"
    same "$D/s1" "$D/s3"

    # A symlink to FILE stays a symlink: the file it names is replaced.
    mkdir -p "$D/real"
    cp "$D/src.copy" "$D/real/target.mo"
    ln -s real/target.mo "$D/link.mo"
    run 0 compact "$D/link.mo" && has "$D/out" "$D/link.mo: compacted 500 keys"
    [ -L "$D/link.mo" ] || fail "compact replaced the symlink instead of its target"
    [ "$(size_of "$D/real/target.mo")" -lt "$(size_of "$D/src.copy")" ] || fail "target not compacted"
    ls -A "$D/real" | grep -q mmapobj-compact && fail "compact left a temporary directory in real/"
    cli dump "$D/link.mo" | LC_ALL=C sort >"$D/s5"
    same "$D/s1" "$D/s5"

    # A damaged FILE is left alone, with no temporary files behind.
    cp "$D/src.mo" "$D/bad.mo"
    helper corrupt "$D/bad.mo" record-klen
    cp "$D/bad.mo" "$D/bad.copy"
    run 2 compact "$D/bad.mo" && has "$D/err" "$D/bad.mo"
    same "$D/bad.mo" "$D/bad.copy"
    ls -A "$D" | grep -q mmapobj-compact && fail "failed compact left a temporary directory"

    # ^C during the copy: FILE stays as it was and the temporary directory goes away. (If
    # the compaction wins the race and finishes first, its result must be sound instead.)
    helper fill "$D/int.mo" 300000
    cp "$D/int.mo" "$D/int.copy"
    (exec $W "$T" compact "$D/int.mo" >"$D/int.out" 2>"$D/int.err") &
    local cpid=$! tries=0
    until compgen -G "$D/.mmapobj-compact-*" >/dev/null || ! kill -0 $cpid 2>/dev/null; do
        tries=$((tries + 1))
        [ $tries -gt 2000 ] && break
        sleep 0.01
    done
    kill -INT $cpid 2>/dev/null
    wait $cpid
    local rc=$?
    if [ $rc -eq 130 ]; then
        same "$D/int.mo" "$D/int.copy"
        has "$D/int.err" "interrupted (signal 2); $D/int.mo is unchanged"
    elif [ $rc -eq 0 ]; then
        echo "  (compaction finished before the interrupt; checking its result)" >&2
        run 0 verify -q "$D/int.mo"
        helper check "$D/int.mo" 300000
    else
        fail "interrupted compact exited $rc: $(cat "$D/int.err")"
    fi
    compgen -G "$D/.mmapobj-compact-*" >/dev/null && fail "interrupted compact left its temporary directory"

    # A file whose last writer died mid-write (seq left odd) is repaired, then compacted.
    cp "$D/src.copy" "$D/odd.mo"
    helper oddseq "$D/odd.mo"
    run 0 compact "$D/odd.mo" && has "$D/err" "repaired it first"
    run 0 verify -q "$D/odd.mo"
    cli dump "$D/odd.mo" | LC_ALL=C sort >"$D/s4"
    same "$D/s1" "$D/s4"
}

# ---------------------------------------------------------------------------------------
# Progress on a terminal: run load under script(1), which gives it a pty as stderr.
test_progress() {
    command -v script >/dev/null || { fail "script(1) (bsdutils) is needed for this test"; return; }
    helper fill "$D/p.mo" 20000
    cli dump "$D/p.mo" >"$D/p.jsonl"
    local cmd
    printf -v cmd '%q ' $W "$T" load "$D/q.mo" "$D/p.jsonl"
    script -qec "$cmd" /dev/null >"$D/tty.out" </dev/null || fail "load under a pty failed"
    has "$D/tty.out" " pairs  "
    has "$D/tty.out" "/s  ["
    has "$D/tty.out" "ETA "
    has "$D/tty.out" $'\033[K'
    has "$D/tty.out" "stored 20,000 pairs"
    # Input of unknown size (a pipe): count and rate, no percentage.
    printf -v cmd '%q ' cat "$D/p.jsonl"
    printf -v cmd '%s | ' "$cmd"
    local cmd2
    printf -v cmd2 '%q ' $W "$T" load "$D/r.mo"
    script -qec "$cmd$cmd2" /dev/null >"$D/tty2.out" </dev/null || fail "piped load under a pty failed"
    has "$D/tty2.out" "MiB read"
    hasnt "$D/tty2.out" "ETA "
    # --no-progress on a terminal: only the summary.
    printf -v cmd '%q ' $W "$T" load --no-progress "$D/s.mo" "$D/p.jsonl"
    script -qec "$cmd" /dev/null >"$D/tty3.out" </dev/null || fail "load --no-progress failed"
    hasnt "$D/tty3.out" $'\033'
    has "$D/tty3.out" "stored 20,000 pairs"
    # Not a terminal: no progress drawing.
    run 0 load "$D/t.mo" "$D/p.jsonl" && hasnt "$D/err" $'\r'
}

# ---------------------------------------------------------------------------------------
# js/cli.js, the npm bin: finds the tool, passes arguments, stdio and the exit status.
test_npm_bin() {
    command -v node >/dev/null || { fail "node is needed for this test"; return; }
    local js
    js=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/js/cli.js
    helper sample "$D/n.mo"
    MMAPOBJ_CLI=$T node "$js" get "$D/n.mo" greeting >"$D/out" 2>"$D/err"
    [ $? -eq 0 ] || fail "cli.js get: $(cat "$D/err")"
    same "$D/out" <(printf 'hello, world\n')
    MMAPOBJ_CLI=$T node "$js" get "$D/n.mo" absent >"$D/out" 2>&1
    [ $? -eq 1 ] || fail "cli.js does not forward status 1"
    MMAPOBJ_CLI=$T node "$js" stat >"$D/out" 2>"$D/err"
    [ $? -eq 64 ] || fail "cli.js does not forward status 64"
    has "$D/err" "missing FILE"
    printf '{"key":"via","string":"stdin"}\n' | MMAPOBJ_CLI=$T node "$js" load -q "$D/n.mo"
    [ $? -eq 0 ] || fail "cli.js load from stdin"
    run 0 get "$D/n.mo" via && same "$D/out" <(printf 'stdin\n')
    # Killed by SIGPIPE (dump | head): the status says so, as for the tool itself.
    helper fill "$D/big.mo" 20000
    MMAPOBJ_CLI=$T node "$js" dump "$D/big.mo" | head -n 1 >/dev/null
    [ "${PIPESTATUS[0]}" -eq 141 ] || fail "cli.js after SIGPIPE exited ${PIPESTATUS[0]}, wanted 141"
    # A wrong MMAPOBJ_CLI is reported with what was tried.
    MMAPOBJ_CLI=$D/nope node "$js" stat f >"$D/out" 2>"$D/err"
    [ $? -eq 70 ] || fail "cli.js with a missing tool should exit 70"
    has "$D/err" "$D/nope (env MMAPOBJ_CLI): not an executable file"
    # PATH search skips the script itself (npm's .bin link to it) and finds the real tool.
    mkdir -p "$D/pkg/js" "$D/bin1" "$D/bin2"
    cp "$js" "$D/pkg/js/cli.js"
    ln -s "$D/pkg/js/cli.js" "$D/bin1/mmapobj"
    ln -s "$T" "$D/bin2/mmapobj"
    env -u MMAPOBJ_CLI PATH="$D/bin1:$D/bin2:$(dirname "$(command -v node)")" \
        node "$D/pkg/js/cli.js" --version >"$D/out" 2>"$D/err" || fail "cli.js via PATH: $(cat "$D/err")"
    has "$D/out" "mmapobj 1.0.0"
    env -u MMAPOBJ_CLI PATH="$D/bin1:$(dirname "$(command -v node)")" \
        node "$D/pkg/js/cli.js" --version >"$D/out" 2>"$D/err"
    [ $? -eq 70 ] || fail "cli.js with only itself on PATH should exit 70"
    has "$D/err" "$D/bin1/mmapobj (PATH): skipped, it is this Node script"
    has "$D/err" "cmake --build"
}

groups=("$@")
[ ${#groups[@]} -eq 0 ] && groups=(usage stat get keys_dump load roundtrip verify compact progress npm_bin)
for g in "${groups[@]}"; do
    CURRENT=$g
    if ! declare -F "test_$g" >/dev/null; then
        fail "no test group '$g'"
        continue
    fi
    before=$FAILS
    D=$ROOT/$g
    mkdir -p "$D"
    "test_$g"
    if [ "$FAILS" -eq "$before" ]; then echo "ok - $g"; else echo "not ok - $g"; fi
done
[ "$FAILS" -eq 0 ]
