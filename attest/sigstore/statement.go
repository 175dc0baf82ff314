//go:build !js

package sigstore

import (
	_ "crypto/sha256" // registers sha256 for go-digest
	_ "crypto/sha512" // registers sha384 and sha512 for go-digest
	"fmt"

	"github.com/opencontainers/go-digest"

	"github.com/imgproof/imgproof/attest/intoto"
	"github.com/imgproof/imgproof/internal/limits"
)

// statement re-reads a verified DSSE payload under the strict JSON profile
// (duplicate keys, case-folded aliases and invalid UTF-8 are rejected, so
// no other parser can read a different statement from the same bytes) and
// applies the predicate type policy.
func (res *Result) statement(predicateType string, lim limits.Limits) error {
	if res.Payload == nil {
		if predicateType != "" {
			return res.fail(CheckPayload, ErrVerify, fmt.Errorf("predicate type %q required, but the signature is over a plain message, not an attestation", predicateType))
		}
		return nil
	}
	if err := intoto.CheckPayloadType(res.PayloadType); err != nil {
		return res.fail(CheckPayload, ErrMalformed, err)
	}
	st, err := intoto.Parse(res.Payload, lim)
	if err != nil {
		return res.fail(CheckPayload, ErrMalformed, err)
	}
	res.Statement = st
	res.PredicateType = st.PredicateType
	if predicateType != "" && st.PredicateType != predicateType {
		return res.fail(CheckPayload, ErrVerify, fmt.Errorf("predicate type is %q, policy requires %q", st.PredicateType, predicateType))
	}
	msg := "in-toto statement " + st.Type + ", predicate " + st.PredicateType
	res.pass(CheckPayload, msg)
	return nil
}

// bindArtifact requires a subject of the statement to name the artifact,
// given by one or more digests of it (the first is reported).
func (res *Result) bindArtifact(st *intoto.Statement, artifactDigests ...string) error {
	var nodes []intoto.Node
	for _, s := range artifactDigests {
		d, err := parseDigest(s)
		if err != nil {
			return res.fail(CheckSubject, ErrVerify, err)
		}
		nodes = append(nodes, intoto.Node{Digest: d, Kind: "artifact", Path: "artifact"})
	}
	m, err := st.Bind(nodes)
	if err != nil {
		return res.fail(CheckSubject, ErrVerify, err)
	}
	if len(m) == 0 {
		return res.fail(CheckSubject, ErrVerify, fmt.Errorf("no statement subject names the artifact %s (subjects: %s)", artifactDigests[0], st.Names()))
	}
	res.pass(CheckSubject, fmt.Sprintf("subject[%d] names %s", m[0].Subject, m[0].Node.Digest))
	return nil
}

// parseDigest validates an algorithm:hex digest.
func parseDigest(s string) (digest.Digest, error) {
	d, err := digest.Parse(s)
	if err != nil {
		return "", fmt.Errorf("artifact digest %q: %w", s, err)
	}
	return d, nil
}
