#!/usr/bin/env bash
# Benchmark: imgproof verify next to the speed limits of standard tools and
# next to its peers, on generated images of several sizes, in one run.
#
#   bench/run.sh [--sizes "64MiB 256MiB 1GiB"] [--4g] [--runs N] [--seed N]
#                [--work DIR] [--out FILE] [--imgproof BIN] [--no-install]
#
# Prints one markdown table (median seconds over N runs after one warm-up,
# MB/s, peak RSS, ratios) and writes it to bench/out/results.md. Generated
# images are kept under --work (default bench/out/images) and reused by later
# runs with the same size and seed. imgproof is built from the work tree into
# bench/out/bin unless --imgproof names a binary. See docs/bench.md.
set -euo pipefail
cd "$(dirname "$0")/.."

sizes="64MiB 256MiB 1GiB"
runs=""
seed=1
work=bench/out/images
out=bench/out/results.md
install=1
render_only=""
imgproof=""
imgproof_from="a given binary"
while (($#)); do
	case $1 in
	--sizes) sizes=$2; shift ;;
	--4g) sizes="$sizes 4GiB" ;;
	--runs) runs=$2; shift ;;
	--seed) seed=$2; shift ;;
	--work) work=$2; shift ;;
	--out) out=$2; shift ;;
	--imgproof) imgproof=$2; shift ;;
	--no-install) install="" ;;
	--render-only) render_only=1 ;; # re-print the table from the last run's .tsv
	-h | --help) sed -n '2,13p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown argument $1" >&2; exit 64 ;;
	esac
	shift
done

log() { echo "== $*" >&2; }
export PATH="$PATH:$(go env GOPATH)/bin"

# --- tools ---------------------------------------------------------------
ensure_tools() {
	local pkgs=() sudo=""
	command -v hyperfine >/dev/null || pkgs+=(hyperfine)
	command -v igzip >/dev/null || pkgs+=(isal)
	[[ -f /usr/include/isa-l/igzip_lib.h ]] || pkgs+=(libisal-dev)
	[[ -x /usr/bin/time ]] || pkgs+=(time)
	command -v skopeo >/dev/null || pkgs+=(skopeo)
	command -v zstd >/dev/null || pkgs+=(zstd)
	command -v openssl >/dev/null || pkgs+=(openssl)
	if ((${#pkgs[@]})); then
		[[ -n $install ]] || { echo "run.sh: missing ${pkgs[*]} (and --no-install)" >&2; exit 1; }
		[[ $(id -u) == 0 ]] || sudo=sudo
		log "installing ${pkgs[*]}"
		$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >&2 ||
			{ $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >&2; }
	fi
	if ! crane version 2>/dev/null | grep -q '0\.22\.1'; then
		[[ -n $install ]] || { echo "run.sh: crane v0.22.1 missing (and --no-install)" >&2; exit 1; }
		log "installing crane v0.22.1"
		go install github.com/google/go-containerregistry/cmd/crane@v0.22.1
	fi
}
rows=${out%.md}.tsv # size, key, input, bytes, median s, rss KiB, note, cpu s
res=$(mktemp -d)
trap 'rm -rf "$res"' EXIT
load_start=n/a load_end=n/a
if [[ -z $render_only ]]; then
ensure_tools

mkdir -p bench/out/bin "$(dirname "$out")" "$work"
if [[ -z $imgproof ]]; then
	log "building imgproof"
	# The ISA-L inflate fast path when libisal-dev is there, as make build does.
	tags=""
	[[ -f /usr/include/isa-l/igzip_lib.h ]] && tags=isal
	go build -tags "$tags" -o bench/out/bin/imgproof ./cmd/imgproof
	imgproof=$PWD/bench/out/bin/imgproof
	imgproof_from="tags: ${tags:-none}; "
	imgproof_from+="the work tree at $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- 2>/dev/null || echo ' (with uncommitted changes)')"
fi
go build -o bench/out/bin/bench-gen ./bench/gen
# The pure-Go build, as go install makes it, for comparison.
go build -o bench/out/bin/imgproof-purego ./cmd/imgproof
purego=$PWD/bench/out/bin/imgproof-purego
kernels=$PWD/bench/kernels.sh

: >"$rows"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# measure SIZE KEY INPUT BYTES RUNS CMD [PREPARE]: median via hyperfine, then
# peak RSS from one more run under /usr/bin/time (for a pipeline, the
# largest process in it).
measure() {
	local size=$1 key=$2 input=$3 bytes=$4 n=$5 cmd=$6 prep=${7:-true} warm=${8:-1}
	log "$size: $key"
	if ! hyperfine -N --style none --warmup "$warm" --runs "$n" --prepare "$prep" \
		--export-csv "$res/h.csv" "$cmd" >"$res/h.out" 2>&1; then
		# -N (no shell) cannot run pipelines; retry through the shell.
		hyperfine --style none --warmup "$warm" --runs "$n" --prepare "$prep" \
			--export-csv "$res/h.csv" "$cmd" >"$res/h.out" 2>&1 ||
			{ cat "$res/h.out" >&2; printf '%s\t%s\t%s\t%s\t\t\t%s\n' "$size" "$key" "$input" "$bytes" "command failed" >>"$rows"; return; }
	fi
	local median cpu
	median=$(awk -F, 'NR==2 {print $4}' "$res/h.csv")
	cpu=$(awk -F, 'NR==2 {print $5 + $6}' "$res/h.csv")
	bash -c "$prep"
	/usr/bin/time -f %M -o "$res/rss" bash -c "$cmd" >/dev/null 2>&1 || true
	printf '%s\t%s\t%s\t%s\t%s\t%s\t\t%s\n' "$size" "$key" "$input" "$bytes" "$median" "$(tail -1 "$res/rss")" "$cpu" >>"$rows"
}

filesize() { stat -c %s "$1"; }
sumcol() { awk -v c="$2" '{s += $c} END {print s + 0}' "$1"; }

for size in $sizes; do
	d=$work/$size-seed$seed
	if [[ ! -f $d/info.json ]]; then
		log "$size: generating image in $d"
		rm -rf "$d"
		bench/out/bin/bench-gen -size "$size" -seed "$seed" -variants gzip,zstd,none -out "$d" >&2
	fi
	[[ -f $d/gzip.oci.tar ]] || skopeo copy -q "oci:$d/gzip:latest" "oci-archive:$d/gzip.oci.tar:latest"
	[[ -f $d/docker.tar ]] || skopeo copy -q "oci:$d/gzip:latest" "docker-archive:$d/docker.tar:bench/image:latest"

	n=${runs:-5}
	[[ -n $runs || $size == *MiB || $size == *KiB ]] || n=3
	gz=$d/gzip.layers zs=$d/zstd.layers no=$d/none.layers
	gzbytes=$(sumcol "$gz" 4) zsbytes=$(sumcol "$zs" 4) tarbytes=$(sumcol "$no" 4)
	printf '%s\t%s\t%s\t%s\t\t\t\n' "$size" "image" "uncompressed layers" "$tarbytes" >>"$rows"
	log "$size: imgproof is $imgproof ($(sha256sum <"$imgproof" | cut -c1-12))"

	measure "$size" cat "gzip layers" "$gzbytes" "$n" "$kernels cat $d/gzip $gz"
	measure "$size" sha256sum "gzip layers" "$gzbytes" "$n" "$kernels sha256sum $d/gzip $gz"
	measure "$size" gzip-sha256sum "gzip layers" "$gzbytes" "$n" "$kernels gzip-sha256sum $d/gzip $gz"
	measure "$size" igzip-openssl "gzip layers" "$gzbytes" "$n" "$kernels igzip-openssl $d/gzip $gz"
	measure "$size" zstd-sha256sum "zstd layers" "$zsbytes" "$n" "$kernels zstd-sha256sum $d/zstd $zs"
	measure "$size" zstd-openssl "zstd layers" "$zsbytes" "$n" "$kernels zstd-openssl $d/zstd $zs"
	measure "$size" igzip-null "gzip layers" "$gzbytes" "$n" "$kernels igzip-null $d/gzip $gz"
	measure "$size" zstd-null "zstd layers" "$zsbytes" "$n" "$kernels zstd-null $d/zstd $zs"
	measure "$size" openssl-gzip "gzip layers" "$gzbytes" "$n" "$kernels openssl $d/gzip $gz"
	measure "$size" openssl-zstd "zstd layers" "$zsbytes" "$n" "$kernels openssl $d/zstd $zs"
	measure "$size" openssl-none "uncompressed layers" "$tarbytes" "$n" "$kernels openssl $d/none $no"

	for v in "imgproof-layout|OCI layout (gzip)|$d/gzip|$imgproof" \
		"imgproof-purego-layout|OCI layout (gzip)|$d/gzip|$purego" \
		"imgproof-oci-archive|OCI archive (gzip)|$d/gzip.oci.tar|$imgproof" \
		"imgproof-docker|docker-save tar|$d/docker.tar|$imgproof" \
		"imgproof-zstd|OCI layout (zstd)|$d/zstd|$imgproof"; do
		IFS='|' read -r key input src bin <<<"$v"
		bytes=$(du -sb "$src" | cut -f1)
		rc=0
		"$bin" verify "$src" >"$res/verdict" 2>&1 || rc=$?
		if ((rc != 0)); then
			log "$size: $key: imgproof verify exited $rc"
			sed 's/^/   /' "$res/verdict" | head -20 >&2
			printf '%s\t%s\t%s\t%s\t\t\t%s\n' "$size" "$key" "$input" "$bytes" "not VERIFIED (exit $rc)" >>"$rows"
			continue
		fi
		measure "$size" "$key" "$input" "$bytes" "$n" "$bin verify $src"
	done

	# Peers last: the imgproof rows have just read the docker-save tar into
	# the page cache, so crane, the slowest row, skips the warm-up run.
	measure "$size" crane "docker-save tar" "$(filesize "$d/docker.tar")" "$n" "crane validate --tarball $d/docker.tar" true 0
	measure "$size" skopeo "OCI layout (gzip)" "$(du -sb "$d/gzip" | cut -f1)" "$n" \
		"skopeo copy -q oci:$d/gzip:latest dir:$res/scratch" "rm -rf $res/scratch"
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
fi

# --- the table -------------------------------------------------------------
render() {
	cat <<EOF
# imgproof benchmark

$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), seed $seed.
Load average at start $load_start, at end $load_end: other work on the machine slows every row, the wall-clock ones most.
imgproof built from $imgproof_from. Tools: $(hyperfine --version), $(skopeo --version), crane $(crane version), $(openssl version | cut -d' ' -f1-2), igzip $(igzip --version 2>&1 | head -1 | awk '{print $NF}'), zstd $(zstd --version | grep -o 'v[0-9.]*' | head -1), $(go version | awk '{print $3}').

- median s: median wall-clock time of N runs after one warm-up (N=${runs:-5}; 3 from 1 GiB up; crane has no warm-up), page cache warm. CPU s: mean user+system time.
- MB/s: input bytes (10^6) per wall-clock second. Peak RSS: one extra run under \`/usr/bin/time -f %M\` (for a pipeline: its largest process).
- ÷ best: the row's time over the best one-pass pipeline on the same image (\`igzip\`+\`openssl\` for gzip, \`zstd\`+\`openssl\` for zstd). Goal for imgproof on a layout: at most 0.80. CPU ÷ best: the same for CPU time, which other load on the machine distorts less (the pipeline's includes starting three processes per layer).
- crane ÷: \`crane validate --tarball\` time over the row's. Goal: at least 7.
- bound: the two-core bound (below) over the row's time; 100% would be at the bound.

EOF
	awk -F'\t' '$2 == "image" {printf "- %s image: %d MB of layer tars (uncompressed).\n", $1, $4 / 1e6}' "$rows"
	echo
	echo "| size | what | input | input MB | median s | CPU s | MB/s | peak RSS MiB | ÷ best | CPU ÷ best | crane ÷ | bound |"
	echo "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	awk -F'\t' '
	function label(k) {
		if (k == "cat") return "`cat` layer blobs"
		if (k == "sha256sum") return "`sha256sum` layer blobs"
		if (k == "gzip-sha256sum") return "`gzip -dc \\| sha256sum` per layer"
		if (k == "igzip-openssl") return "**best pipeline**: `tee` to `openssl dgst`, `igzip -dc \\| openssl dgst`, per layer"
		if (k == "zstd-sha256sum") return "`zstd -dc \\| sha256sum` per layer"
		if (k == "zstd-openssl") return "**best pipeline**: `tee` to `openssl dgst`, `zstd -dc \\| openssl dgst`, per layer"
		if (k == "igzip-null") return "kernel: `igzip -dc >/dev/null` (1 core)"
		if (k == "zstd-null") return "kernel: `zstd -dc >/dev/null` (1 core)"
		if (k ~ /^openssl-/) return "kernel: `openssl dgst -sha256` (1 core)"
		if (k ~ /^bound-/) return "two-core bound, estimated (see below)"
		if (k == "crane") return "`crane validate --tarball`"
		if (k == "skopeo") return "`skopeo copy oci: dir:`"
		if (k ~ /^imgproof-purego/) return "`imgproof verify`, pure-Go build"
		if (k ~ /^imgproof/) return "**`imgproof verify`**"
		return k
	}
	function f(x, p) { return x == "" ? "" : sprintf("%." p "f", x) }
	$2 == "image" { next }
	{ n++; size[n] = $1; key[n] = $2; input[n] = $3; bytes[n] = $4; med[n] = $5; rss[n] = $6; note[n] = $7; cpu[n] = $8
	  if ($5 != "") { t[$1, $2] = $5; c[$1, $2] = $8 } }
	END {
		for (i = 1; i <= n; i++) {
			s = size[i]; k = key[i]
			if (!(s in done)) {
				done[s] = 1
				# The bound uses CPU time, which other load on the machine
				# inflates far less than wall-clock time.
				if ((s, "igzip-null") in c && (s, "openssl-gzip") in c && (s, "openssl-none") in c)
					bg[s] = (c[s, "igzip-null"] + c[s, "openssl-gzip"] + c[s, "openssl-none"]) / 2
				if ((s, "zstd-null") in c && (s, "openssl-zstd") in c && (s, "openssl-none") in c)
					bz[s] = (c[s, "zstd-null"] + c[s, "openssl-zstd"] + c[s, "openssl-none"]) / 2
			}
			best = ""; cbest = ""; crane = ""; bound = ""
			zstd = (input[i] ~ /zstd/)
			if (k ~ /^imgproof/ || k == "crane" || k == "skopeo" || k ~ /sha256sum|openssl$/)
				best = zstd ? t[s, "zstd-openssl"] : t[s, "igzip-openssl"]
			if (best != "") cbest = zstd ? c[s, "zstd-openssl"] : c[s, "igzip-openssl"]
			if (k ~ /^imgproof/ || k ~ /openssl$/)
				bound = zstd ? bz[s] : bg[s]
			if (k ~ /^imgproof/) crane = t[s, "crane"]
			m = med[i]
			printf "| %s | %s | %s | %.1f | %s | %s | %s | %s | %s | %s | %s | %s |\n", s, label(k), input[i], bytes[i] / 1e6,
				m == "" ? note[i] : f(m, 3), f(cpu[i], 2), m == "" ? "" : f(bytes[i] / 1e6 / m, 0),
				rss[i] == "" ? "" : f(rss[i] / 1024, 1),
				(m != "" && best != "") ? f(m / best, 2) : "",
				(m != "" && cbest > 0 && cpu[i] != "") ? f(cpu[i] / cbest, 2) : "",
				(m != "" && crane != "") ? f(crane / m, 1) : "",
				(m != "" && bound != "") ? f(100 * bound / m, 0) "%" : ""
			if (k == "openssl-none") {
				if (s in bg) printf "| %s | %s | gzip layers | | %.3f | | | | | | | |\n", s, label("bound-gzip"), bg[s]
				if (s in bz) printf "| %s | %s | zstd layers | | %.3f | | | | | | | |\n", s, label("bound-zstd"), bz[s]
			}
		}
	}' "$rows"
	cat <<'EOF'

The two-core bound: verifying a layer needs at least one decompression of
the blob and SHA-256 over both the compressed and the uncompressed bytes.
The kernel rows run each of these alone on one core with the fastest native
tools here (ISA-L `igzip`, `zstd`, OpenSSL's SHA-NI SHA-256), reading from
the page cache without pipes. Their summed CPU time is the work; spread
perfectly over two cores it takes half as long:
bound = (decompress + sha256(compressed) + sha256(uncompressed)) / 2.
It leaves out reading, copying and scheduling and uses native kernels
where a pure-Go program has slower ones, so 100% is out of reach; on small
images the kernels' start-up (one bash and openssl per layer) inflates it.
EOF
	echo
	echo "Goals per size (imgproof on the gzip layout ÷ best pipeline ≤ 0.80; crane ÷ imgproof on the same docker-save tar ≥ 7; imgproof peak RSS ≤ 64 MiB on every input):"
	echo
	awk -F'\t' '
	$2 == "image" { order[++n] = $1; next }
	$5 != "" { t[$1, $2] = $5 }
	$2 ~ /^imgproof/ && $6 != "" { if ($6 > rss[$1]) rss[$1] = $6 }
	function verdict(ok) { return ok ? "met" : "not met" }
	END {
		for (i = 1; i <= n; i++) {
			s = order[i]; line = "- " s ":"
			if ((s, "imgproof-layout") in t && (s, "igzip-openssl") in t) {
				r = t[s, "imgproof-layout"] / t[s, "igzip-openssl"]
				line = line sprintf(" imgproof ÷ best %.2f (%s);", r, verdict(r <= 0.8))
			}
			if ((s, "imgproof-docker") in t && (s, "crane") in t) {
				r = t[s, "crane"] / t[s, "imgproof-docker"]
				line = line sprintf(" crane ÷ imgproof %.1f (%s);", r, verdict(r >= 7))
			}
			if (s in rss) line = line sprintf(" imgproof peak RSS %.1f MiB (%s).", rss[s] / 1024, verdict(rss[s] <= 65536))
			print line
		}
	}' "$rows"
}
render | tee "$out"
log "results written to $out"
