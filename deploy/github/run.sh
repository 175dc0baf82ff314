#!/usr/bin/env bash
# run.sh is the step of action.yml that runs imgproof: it takes its inputs
# from the environment (never spliced into the script), writes the report
# and SARIF, and sets the step's outputs verdict, report and sarif.
set -uo pipefail

args=()
while IFS= read -r k; do [ -n "$k" ] && args+=(--key "$k"); done <<<"${KEYS:-}"
while IFS= read -r p; do [ -n "$p" ] && args+=(--policy "$p"); done <<<"${POLICY:-}"
[ -n "${IDENTITY:-}" ] && args+=(--certificate-identity "$IDENTITY")
[ -n "${ISSUER:-}" ] && args+=(--certificate-oidc-issuer "$ISSUER")
[ -n "${PLATFORM:-}" ] && args+=(--platform "$PLATFORM")

sarif=""
case "${COMMAND:-verify}" in
verify)
  "$IMGPROOF" verify -o json "${args[@]}" "$SOURCE" >"$REPORT"
  code=$?
  ;;
sweep)
  if [ -f "$SOURCE" ]; then in=(--file "$SOURCE"); else in=(--catalog "$SOURCE"); fi
  [ -n "${SHARD:-}" ] && in+=(--shard "$SHARD")
  "$IMGPROOF" sweep "${in[@]}" "${args[@]}" --out "$REPORT"
  code=$?
  if [ "$code" -ne 64 ] && [ -n "${SARIF:-}" ]; then
    "$IMGPROOF" sweep merge --sarif "$SARIF" "$REPORT" >/dev/null
    sarif="$SARIF"
  fi
  ;;
conformance)
  platform=()
  [ -n "${PLATFORM:-}" ] && platform=(--platform "$PLATFORM")
  out="${SARIF:-$REPORT}"
  "$IMGPROOF" conformance -o sarif "${platform[@]}" "$SOURCE" >"$out"
  code=$?
  sarif="$out"
  REPORT="$out"
  ;;
*)
  echo "::error::imgproof action: command must be verify, sweep or conformance, not '${COMMAND}'"
  code=64
  ;;
esac

case "$code" in
0) verdict=VERIFIED ;;
1) verdict=FAILED ;;
2) verdict=UNVERIFIABLE ;;
*) verdict=ERROR ;;
esac
{
  echo "verdict=$verdict"
  echo "report=$REPORT"
  echo "sarif=$sarif"
} >>"${GITHUB_OUTPUT:-/dev/null}"
echo "imgproof ${COMMAND:-verify}: $verdict (exit $code), report $REPORT"
if [ "$verdict" != VERIFIED ] && [ "${FAIL:-true}" = true ]; then
  exit 1
fi
exit 0
