//go:build !js

// Package e2e tests imgproof's signature and attestation checks against
// images signed and attested by the real cosign CLI, pushed to a local
// registry (crane registry serve) and saved with cosign save.
//
// The tests need cosign and crane on PATH or in $(go env GOPATH)/bin
// (.ci/install.d/30-cosign.sh installs them). Without them the tests skip,
// except under CI=true, where they fail.
package e2e
