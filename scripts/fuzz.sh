#!/usr/bin/env bash
# fuzz.sh — fuzzing for real (the CI's `ctest -L fuzz` is only a smoke run).
#
# Builds the libFuzzer targets of fuzz/ (clang, -DCTNG_FUZZ=ON: ASan + UBSan +
# LeakSanitizer), runs each selected target for a fixed time on its seed
# corpus plus a work corpus kept in the build tree across runs, merges the
# inputs that reach new coverage back into fuzz/corpus/<target>/ (libFuzzer
# -merge=1: only inputs that add features, smallest first, each at most
# --max-len bytes), and prints a summary table: executions, exec/s, libFuzzer
# cov (edges) and ft (features), corpus size, crashes / leaks / timeouts /
# OOMs. With --coverage it also measures clang source-based line coverage of
# src/ per target and for all targets together (llvm-profdata + llvm-cov).
#
# Usage: scripts/fuzz.sh [options] [REGEX]     (docs/hacking.md, "Fuzzing")
#   -t, --time S        seconds of fuzzing per target (default 180)
#   -f, --filter REGEX  only targets whose name matches REGEX (grep -E); also positional
#   -j, --jobs N        fuzzing processes per target (libFuzzer -fork=N, default 1)
#       --max-len N     largest generated input in bytes (default 4096; a target
#                       whose seeds are larger uses its largest seed's size)
#       --budget B      bytes of new inputs merged per target and run (default 16384):
#                       the smallest first, the rest stay in the work corpus only
#       --timeout S     an input running longer than S seconds is a hang (default 10)
#       --rss-mb N      memory limit per fuzzing process (default 2048)
#       --no-merge      leave fuzz/corpus/ alone (new inputs stay in the work corpus)
#       --merge-only    no fuzzing: merge the work corpora into fuzz/corpus/ again
#       --minimize      rebuild fuzz/corpus/<t>/ as a minimal set: hand-named seeds
#                       are kept, hash-named inputs only if they still add coverage
#       --features      merge on libFuzzer's features (edges x hit counts) instead of
#                       edges only: more inputs kept, richer seeds, bigger repo
#       --coverage      source-based coverage report (extra build in build/fuzz-cov)
#       --no-build      use the existing build
#       --build DIR     fuzzing build folder (default build/fuzz)
#       --nice N        niceness of everything this script starts (default 10)
#       --list          list the targets and exit
#       --history       totals per target over every run recorded in history.tsv
# Results: build/fuzz-run/ (summary.txt, history.tsv, <target>/fuzz.log,
# <target>/corpus = work corpus, <target>/artifacts = crashing inputs).
# Exit status: 0, or 1 when any target crashed, leaked, hung or ran out of memory.
# The whole script is one block, so bash has read all of it before it runs:
# editing fuzz.sh (or checking out another version) during a run is safe.
{
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

time_s=180 filter="" jobs=1 max_len=4096 budget=16384 timeout_s=10 rss_mb=2048 merge=1 minimize=0
features=0 coverage=0 build=1 merge_only=0 bdir=build/fuzz niceness=10 list=0 history=0
usage() { sed -n '/^# Usage:/,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//'; }
need() { [ $# -ge 2 ] || { echo "fuzz.sh: $1 needs a value" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
	case "$1" in
	-t | --time) need "$@"; time_s=$2; shift 2 ;;
	-f | --filter) need "$@"; filter=$2; shift 2 ;;
	-j | --jobs) need "$@"; jobs=$2; shift 2 ;;
	--max-len) need "$@"; max_len=$2; shift 2 ;;
	--budget) need "$@"; budget=$2; shift 2 ;;
	--timeout) need "$@"; timeout_s=$2; shift 2 ;;
	--rss-mb) need "$@"; rss_mb=$2; shift 2 ;;
	--no-merge) merge=0; shift ;;
	--minimize) minimize=1; shift ;;
	--merge-only) merge_only=1; shift ;;
	--features) features=1; shift ;;
	--coverage) coverage=1; shift ;;
	--no-build) build=0; shift ;;
	--build) need "$@"; bdir=$2; shift 2 ;;
	--nice) need "$@"; niceness=$2; shift 2 ;;
	--list) list=1; shift ;;
	--history) history=1; shift ;;
	-h | --help) usage; exit 0 ;;
	-*) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	*) filter=$1; shift ;;
	esac
done
for v in "$time_s" "$jobs" "$max_len" "$budget" "$timeout_s" "$rss_mb" "$niceness"; do
	[[ "$v" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: not a number: $v" >&2; exit 2; }
done
[ "$jobs" -ge 1 ] || jobs=1

run_dir=$root/build/fuzz-run
hist=$run_dir/history.tsv
mkdir -p "$run_dir"

if [ "$history" = 1 ]; then
	[ -s "$hist" ] || { echo "no runs recorded in $hist"; exit 0; }
	awk -F'\t' 'NR > 1 { n[$2]++; t[$2] += $3; x[$2] += $4; c[$2] = $6; f[$2] = $7; k[$2] += $10
	                     T += $3; X += $4 }
	     END { printf "%-22s %5s %8s %12s %6s %6s %7s\n", "target", "runs", "time_s", "execs",
	                  "cov", "ft", "crashes"
	           for (i in n) printf "%-22s %5d %8d %12d %6s %6s %7d\n", i, n[i], t[i], x[i], c[i], f[i], k[i] | "sort"
	           close("sort")
	           printf "total fuzzing time %d s (%.1f min), %d executions\n", T, T / 60, X }' "$hist"
	exit 0
fi

mapfile -t targets < <(find fuzz -maxdepth 1 -name 'fuzz_*.c' -printf '%f\n' | sed 's/\.c$//' | sort |
	grep -E -- "${filter:-.}" || true)
[ ${#targets[@]} -gt 0 ] || { echo "fuzz.sh: no target matches '$filter'" >&2; exit 2; }
if [ "$list" = 1 ]; then
	printf '%s\n' "${targets[@]}"
	exit 0
fi

N=(nice -n "$niceness")
cores=$(nproc 2>/dev/null || echo 2)
build_tree() { # DIR [extra cmake args]: configure and build the selected targets
	local dir=$1
	shift
	CC=clang "${N[@]}" cmake -S . -B "$dir" -DCTNG_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
	"${N[@]}" cmake --build "$dir" -j"$cores" --target "${targets[@]}"
}
if [ "$build" = 1 ]; then
	echo "== building ${#targets[@]} fuzz targets in $bdir"
	build_tree "$bdir"
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

count() { find "$1" -maxdepth 1 -type f 2>/dev/null | wc -l; }
bytes() { find "$1" -maxdepth 1 -type f -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }

[ -s "$hist" ] || printf 'date\ttarget\tseconds\texecs\texec_s\tcov\tft\tcorpus_files\tcorpus_bytes\tcrashes\tleaks\ttimeouts\tooms\tnew_inputs\n' >"$hist"
summary=$run_dir/summary.txt
{
	printf '%-22s %6s %11s %7s %6s %6s %13s %5s %s\n' target time_s execs exec/s cov ft \
		"corpus f/B" new "crash/leak/hang/oom"
} >"$summary"
failed=0 total_t=0 total_x=0
for t in "${targets[@]}"; do
	bin=$bdir/fuzz/$t
	[ -x "$bin" ] || { echo "fuzz.sh: $bin missing (build it or drop --no-build)" >&2; exit 2; }
	seeds=$root/fuzz/corpus/$t
	mkdir -p "$seeds"
	work=$run_dir/$t/corpus arts=$run_dir/$t/artifacts
	mkdir -p "$work" "$arts"
	len=$max_len
	big=$(find "$seeds" -maxdepth 1 -type f -printf '%s\n' | sort -n | tail -1)
	[ -n "$big" ] && [ "$big" -gt "$len" ] && len=$big
	log=$run_dir/$t/fuzz.log
	before_f=$(count "$seeds") before_b=$(bytes "$seeds")
	arts_before=$(find "$arts" -type f | sort)
	if [ "$merge_only" = 1 ]; then
		echo "== $t: merging $(count "$work") work inputs into $before_f seeds / $before_b B"
	else
		echo "== $t: ${time_s}s, $jobs job(s), max_len $len, seeds $before_f files / $before_b B"
	fi
	start=$(date +%s)
	# -fork keeps fuzzing past a crash (-ignore_*), so one run can find several.
	if [ "$merge_only" = 1 ]; then
		log=/dev/null
	else
		"${N[@]}" "$bin" -fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
			-max_total_time="$time_s" -max_len="$len" -timeout="$timeout_s" -rss_limit_mb="$rss_mb" \
			-print_final_stats=1 -artifact_prefix="$arts/" "$work" "$seeds" >"$log" 2>&1 || true
	fi
	secs=$(($(date +%s) - start))
	# the last status line: "#N: cov: C ft: F corp: K exec/s E oom/timeout/crash: o/t/c time: Ts"
	stat=$(grep -E '^#[0-9]+: cov: ' "$log" | tail -1 || true)
	execs=$(sed -E 's/^#([0-9]+):.*/\1/' <<<"$stat")
	cov=$(sed -nE 's/.* cov: ([0-9]+) .*/\1/p' <<<"$stat")
	ft=$(sed -nE 's/.* ft: ([0-9]+) .*/\1/p' <<<"$stat")
	execs=${execs:-0} cov=${cov:-0} ft=${ft:-0}
	new_arts=$(comm -13 <(echo "$arts_before") <(find "$arts" -type f | sort) | grep . || true)
	# Fork mode saves every crashing input, often many for one bug: replay each
	# once, name the bug by its sanitizer SUMMARY line and keep the smallest
	# input per bug (the list is in <target>/crashes.txt).
	declare -A keep=()
	for a in $new_arts; do
		sig=$("${N[@]}" "$bin" -runs=1 -timeout="$timeout_s" -rss_limit_mb="$rss_mb" "$a" 2>&1 |
			grep -m1 -E '^SUMMARY: |ERROR: libFuzzer: ' | sed -E 's/^==[0-9]+== ?//; s/ 0x[0-9a-f]+//g' || true)
		[ -n "$sig" ] || sig="$(basename "$a" | sed 's/-.*//'): does not reproduce alone"
		old=${keep[$sig]:-}
		if [ -z "$old" ] || [ "$(stat -c %s "$a")" -lt "$(stat -c %s "$old")" ]; then
			[ -n "$old" ] && rm -f "$old"
			keep[$sig]=$a
		else
			rm -f "$a"
		fi
	done
	crashes=0 leaks=0 hangs=0 ooms=0
	for sig in "${!keep[@]}"; do
		case "$(basename "${keep[$sig]}")" in
		leak-*) leaks=$((leaks + 1)) ;; timeout-*) hangs=$((hangs + 1)) ;;
		oom-*) ooms=$((ooms + 1)) ;; *) crashes=$((crashes + 1)) ;;
		esac
		printf '%s\t%s\n' "${keep[$sig]}" "$sig" >>"$run_dir/$t/crashes.txt"
	done
	# keep the work corpus within the size cap before it goes anywhere
	find "$work" -maxdepth 1 -type f -size +"${len}"c -delete
	added=0 dropped=0
	if [ "$merge" = 1 ]; then
		if [ "$minimize" = 1 ]; then
			fresh=$run_dir/$t/minimized
			rm -rf "$fresh" "$run_dir/$t/hashed"
			mkdir -p "$fresh" "$run_dir/$t/hashed"
			for f in "$seeds"/*; do
				[ -f "$f" ] || continue
				if [[ "$(basename "$f")" =~ ^[0-9a-f]{40}$ ]]; then
					cp "$f" "$run_dir/$t/hashed/"
				else
					cp "$f" "$fresh/"
				fi
			done
			"${N[@]}" "$bin" -merge=1 -use_counters="$features" -max_len="$len" -timeout="$timeout_s" -rss_limit_mb="$rss_mb" \
				"$fresh" "$run_dir/$t/hashed" "$work" >"$run_dir/$t/merge.log" 2>&1 || true
			if grep -q 'MERGE-OUTER: .* new files' "$run_dir/$t/merge.log"; then
				find "$seeds" -maxdepth 1 -type f -delete
				cp "$fresh"/* "$seeds"/ 2>/dev/null || true
			fi
		else
			# into a copy, then only the smallest new inputs within the budget
			merged=$run_dir/$t/merged
			rm -rf "$merged"
			mkdir -p "$merged"
			find "$seeds" -maxdepth 1 -type f -exec cp {} "$merged"/ \;
			"${N[@]}" "$bin" -merge=1 -use_counters="$features" -max_len="$len" -timeout="$timeout_s" -rss_limit_mb="$rss_mb" \
				"$merged" "$work" >"$run_dir/$t/merge.log" 2>&1 || true
			used=0
			while read -r sz f; do
				[ -e "$seeds/$(basename "$f")" ] && continue
				if [ $((used + sz)) -le "$budget" ]; then
					cp "$f" "$seeds"/
					used=$((used + sz))
				else
					dropped=$((dropped + 1))
				fi
			done < <(find "$merged" -maxdepth 1 -type f -printf '%s %p\n' | sort -n)
		fi
		added=$(($(count "$seeds") - before_f))
	fi
	after_f=$(count "$seeds") after_b=$(bytes "$seeds")
	rate=$((execs / (secs > 0 ? secs : 1)))
	printf '%-22s %6d %11d %7d %6d %6d %13s %5d %s\n' "$t" "$secs" "$execs" "$rate" "$cov" "$ft" \
		"$after_f/$after_b" "$added" "$crashes/$leaks/$hangs/$ooms" >>"$summary"
	[ "$merge_only" = 1 ] || printf '%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n' "$(date -u +%FT%TZ)" "$t" \
		"$secs" "$execs" "$rate" "$cov" "$ft" "$after_f" "$after_b" "$crashes" "$leaks" "$hangs" \
		"$ooms" "$added" >>"$hist"
	total_t=$((total_t + secs)) total_x=$((total_x + execs))
	[ "$dropped" -gt 0 ] && echo "   budget: $dropped more new input(s) stay in $work only"
	if [ ${#keep[@]} -gt 0 ]; then
		failed=1
		echo "   FOUND ${#keep[@]} distinct problem(s) (reproduce: $bin FILE):"
		for sig in "${!keep[@]}"; do echo "     ${keep[$sig]}: $sig"; done
	fi
	unset keep
done

if [ "$coverage" = 1 ]; then
	cdir=build/fuzz-cov
	echo "== coverage build in $cdir"
	build_tree "$cdir" -DCMAKE_C_FLAGS="-fprofile-instr-generate -fcoverage-mapping" \
		-DCMAKE_EXE_LINKER_FLAGS="-fprofile-instr-generate"
	prof=$run_dir/profiles
	rm -rf "$prof"
	mkdir -p "$prof"
	objs=()
	ignore="^$root/(fuzz|tests)/|^/usr/"
	{
		echo
		printf '%-22s %9s %8s  (source-based, lines of src/ linked into the target)\n' target lines line%
	} >>"$summary"
	for t in "${targets[@]}"; do
		bin=$cdir/fuzz/$t
		# every input of the seed and work corpora once (-runs=0 runs the corpus only)
		LLVM_PROFILE_FILE=$prof/$t.%p.profraw "${N[@]}" "$bin" -runs=0 -max_len=1048576 \
			-timeout="$timeout_s" -rss_limit_mb="$rss_mb" "$root/fuzz/corpus/$t" \
			"$run_dir/$t/corpus" >"$run_dir/$t/coverage.log" 2>&1 || true
		llvm-profdata merge -sparse "$prof/$t".*.profraw -o "$prof/$t.profdata"
		objs+=(-object "$bin")
		line=$(llvm-cov report "$bin" -instr-profile "$prof/$t.profdata" \
			-ignore-filename-regex="$ignore" | awk '$1 == "TOTAL"')
		# TOTAL regions missed cover functions missed cover lines missed cover ...
		read -r _ _ _ _ _ _ _ lines lmiss lpct _ <<<"$line"
		printf '%-22s %9s %8s\n' "$t" "$((lines - lmiss))/$lines" "$lpct" >>"$summary"
	done
	llvm-profdata merge -sparse "$prof"/*.profdata -o "$prof/all.profdata"
	llvm-cov report "${objs[@]:1}" -instr-profile "$prof/all.profdata" \
		-ignore-filename-regex="$ignore" >"$run_dir/coverage.txt"
	# per module: src/<module>/ lines covered by all targets together
	{
		echo
		echo "all targets together, lines of src/ per module (per file: $run_dir/coverage.txt):"
		awk '$1 ~ /src\// { split($1, p, "src/"); m = p[2]; sub(/\/.*/, "", m)
		                    if (p[2] !~ /\//) m = "(top)"; L[m] += $8; M[m] += $9 }
		     $1 == "TOTAL" { tl = $8; tm = $9 }
		     END { for (m in L) printf "  %-12s %6d/%-6d %5.1f%%\n", m, L[m] - M[m], L[m], 100 * (L[m] - M[m]) / (L[m] ? L[m] : 1) | "sort"
		           close("sort"); printf "  %-12s %6d/%-6d %5.1f%%\n", "TOTAL", tl - tm, tl, 100 * (tl - tm) / (tl ? tl : 1) }' \
			"$run_dir/coverage.txt"
	} >>"$summary"
fi

echo
cat "$summary"
echo "this run: $total_t s of fuzzing, $total_x executions (history: scripts/fuzz.sh --history)"
[ "$merge" = 1 ] && git status --short -- fuzz/corpus | awk 'END { if (NR) print NR " corpus file(s) changed under fuzz/corpus/ (git status)" }'
exit "$failed"
}
