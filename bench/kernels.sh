#!/usr/bin/env bash
# Shell pipelines that bench/run.sh times next to imgproof: the speed limits
# of reading, hashing and decompressing the same bytes with standard tools.
#
#   bench/kernels.sh KERNEL LAYOUT_DIR LAYERS_FILE
#
# LAYERS_FILE is the <variant>.layers file written by bench/gen (one layer a
# line: blob path, digest hex, diff_id hex, size, uncompressed size). Every
# kernel that computes a digest compares it with the expected one and exits
# 1 on a mismatch, so a timed pipeline has really done the work.
set -euo pipefail

kernel=$1 dir=$2 list=$3

fail() { echo "kernels.sh $kernel: $*" >&2; exit 1; }
check() { # check GOT WANT WHAT
	[[ $1 == "$2" ]] || fail "$3: got $1, want $2"
}
last() { local x; read -r x; echo "${x##* }"; } # last field of one line

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkfifo "$tmp/fifo"

while read -r path dgst diffid _size _usize; do
	f=$dir/$path
	case $kernel in
	cat) # read the layer blobs once, no CPU work
		cat "$f" >/dev/null ;;
	sha256sum) # hash the compressed blobs only
		check "$(sha256sum <"$f" | cut -d' ' -f1)" "$dgst" "$path" ;;
	gzip-sha256sum) # the diff_id the common way
		check "$(gzip -dc <"$f" | sha256sum | cut -d' ' -f1)" "$diffid" "$path diff_id" ;;
	igzip-openssl) # one pass: both digests, ISA-L inflate, OpenSSL SHA-256
		openssl dgst -sha256 <"$tmp/fifo" | last >"$tmp/c" &
		tee "$tmp/fifo" <"$f" | igzip -dc | openssl dgst -sha256 | last >"$tmp/u"
		wait $!
		check "$(cat "$tmp/c")" "$dgst" "$path"
		check "$(cat "$tmp/u")" "$diffid" "$path diff_id" ;;
	zstd-sha256sum)
		check "$(zstd -dcq <"$f" | sha256sum | cut -d' ' -f1)" "$diffid" "$path diff_id" ;;
	zstd-openssl) # one pass: both digests, zstd, OpenSSL SHA-256
		openssl dgst -sha256 <"$tmp/fifo" | last >"$tmp/c" &
		tee "$tmp/fifo" <"$f" | zstd -dcq | openssl dgst -sha256 | last >"$tmp/u"
		wait $!
		check "$(cat "$tmp/c")" "$dgst" "$path"
		check "$(cat "$tmp/u")" "$diffid" "$path diff_id" ;;
	# Single-core kernels for the two-core bound: no pipes, no tee.
	igzip-null)
		igzip -dc <"$f" >/dev/null ;;
	zstd-null)
		zstd -dcq <"$f" >/dev/null ;;
	openssl) # hash one file (compressed or, in the "none" layout, uncompressed)
		check "$(openssl dgst -sha256 <"$f" | last)" "$dgst" "$path" ;;
	*) fail "unknown kernel" ;;
	esac
done <"$list"
