#!/usr/bin/env bash
# check.sh IMAGE_DIR IMGPROOF: the release gate of the imgproof image,
# offline. It pushes the OCI layout to a loopback registry, signs it with a
# throwaway key, attaches an in-toto SLSA v1 provenance statement naming
# the source commit (cosign, no transparency log), saves image, signature
# and attestation as a layout, and has imgproof verify signature,
# provenance and content against the key and a CEL policy that requires
# the commit. Then it checks that the same policy fails for another commit.
set -euo pipefail
image="$(realpath "$1")"
imgproof="$(realpath "$2")"
gobin="$(go env GOPATH)/bin"
cosign="${COSIGN:-$gobin/cosign}"
crane="${CRANE:-$gobin/crane}"
commit="$(git rev-parse HEAD)"
tmp="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp"

for _ in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 30000))
  "$crane" registry serve --address "127.0.0.1:$port" 2>registry.log &
  pid=$!
  for _ in $(seq 50); do
    if "$crane" catalog "127.0.0.1:$port" >/dev/null 2>&1; then break 2; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
  pid=""
done
[ -n "$pid" ] || { echo "check.sh: no loopback registry"; cat registry.log; exit 1; }
reg="127.0.0.1:$port"

"$crane" push "$image" "$reg/imgproof:check" >/dev/null
digest="$("$crane" digest "$reg/imgproof:check")"
ref="$reg/imgproof@$digest"

COSIGN_PASSWORD='' "$cosign" generate-key-pair >/dev/null 2>&1
cat >provenance.json <<JSON
{
  "buildDefinition": {
    "buildType": "https://github.com/imgproof/imgproof/deploy/image@v1",
    "externalParameters": {"target": "make image"},
    "resolvedDependencies": [
      {"uri": "git+https://github.com/imgproof/imgproof", "digest": {"gitCommit": "$commit"}}
    ]
  },
  "runDetails": {
    "builder": {"id": "https://github.com/imgproof/imgproof/mk/image.mk"},
    "metadata": {"invocationId": "image-check"}
  }
}
JSON
export COSIGN_PASSWORD=''
"$cosign" sign --key cosign.key --tlog-upload=false --yes "$ref" >/dev/null 2>&1
"$cosign" attest --key cosign.key --type slsaprovenance1 --predicate provenance.json --tlog-upload=false --yes "$ref" >/dev/null 2>&1
"$cosign" save "$ref" --dir signed >/dev/null

policy() {
  cat <<YAML
apiVersion: imgproof.dev/policy/v1
requireSignature: true
attestations:
  - name: provenance
    predicateType: https://slsa.dev/provenance/v1
    rules:
      - name: built from commit $1
        expr: predicate.buildDefinition.resolvedDependencies.exists(d, d.digest.gitCommit == "$1")
YAML
}
policy "$commit" >policy.yaml
policy 0000000000000000000000000000000000000000 >wrong.yaml

"$imgproof" verify --key cosign.pub --policy policy.yaml signed
set +e
"$imgproof" verify --key cosign.pub --policy wrong.yaml signed >wrong.out 2>&1
code=$?
set -e
if [ "$code" -ne 1 ]; then
  echo "check.sh: a policy for another commit gave exit $code, want 1 (FAILED)"
  cat wrong.out
  exit 1
fi
echo "image $digest: signed, provenance for $commit, VERIFIED"
