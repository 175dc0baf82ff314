//go:build !js

// Package cosignpolicy evaluates CUE and Rego policies over attestations
// with cosign's own code, so that a policy passes or fails here exactly
// as it does in `cosign verify-attestation --policy` and in sigstore
// policy-controller. It is native-only: cosign does not build for
// js/wasm, and the WebAssembly module reports such policies UNVERIFIABLE.
//
// The input of a policy is the JSON that cosign's
// policy.AttestationToPayloadJSON builds from the in-toto statement; its
// shape depends on the predicate type name (a short name such as
// slsaprovenance decodes into cosign's SLSA v0.2 statement type, a URI
// into the generic statement). A policy given as a .rego or .cue file is
// evaluated as the cosign CLI evaluates --policy (Rego query
// data.signature.allow; CUE loaded from the file), an inline policy of a
// policy file as policy-controller evaluates attestations[].policy
// (policy.EvaluatePolicyAgainstJSON: Rego's data.sigstore.isCompliant).
package cosignpolicy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sigstore/cosign/v2/pkg/cosign/cue"
	"github.com/sigstore/cosign/v2/pkg/cosign/rego"
	cpolicy "github.com/sigstore/cosign/v2/pkg/policy"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/intoto"
	"github.com/imgproof/imgproof/attest/policy"
)

var _ attest.PolicyEvaluator = Evaluate

// envelope is the verified attestation as cosign's policy code reads it:
// a DSSE envelope whose payload is the statement.
type envelope []byte

func (e envelope) Payload() ([]byte, error) { return e, nil }

// PayloadJSON is the JSON cosign evaluates a policy on, built from the
// verified statement bytes by cosign's AttestationToPayloadJSON; as is
// the predicate type name (short name or URI) that picks its shape, and
// empty means the statement's own predicate type.
func PayloadJSON(ctx context.Context, as string, statement []byte) ([]byte, error) {
	if as == "" {
		var st struct {
			PredicateType string `json:"predicateType"`
		}
		if err := json.Unmarshal(statement, &st); err != nil {
			return nil, fmt.Errorf("statement: %w", err)
		}
		as = st.PredicateType
	}
	env, err := json.Marshal(map[string]string{"payloadType": intoto.PayloadType, "payload": base64.StdEncoding.EncodeToString(statement)})
	if err != nil {
		return nil, err
	}
	payload, got, err := cpolicy.AttestationToPayloadJSON(ctx, as, envelope(env))
	if err != nil {
		return nil, fmt.Errorf("cosign payload for %s: %w", as, err)
	}
	if len(payload) == 0 {
		return nil, fmt.Errorf("predicate type %s is not %s", got, policy.ResolvePredicateType(as))
	}
	return payload, nil
}

// Evaluate is an attest.PolicyEvaluator: it evaluates p on the statement
// with cosign's evaluators. A violation, and a policy that does not
// compile, are errors, as they are in cosign.
func Evaluate(ctx context.Context, p *policy.Embedded, statement []byte) (string, error) {
	payload, err := PayloadJSON(ctx, p.As, statement)
	if err != nil {
		return "", err
	}
	if p.File != "" {
		switch p.Type {
		case policy.LangRego:
			return "", errors.Join(rego.ValidateJSON(payload, []string{p.File})...)
		case policy.LangCUE:
			return "", cue.ValidateJSON(payload, []string{p.File})
		}
	}
	warn, err := cpolicy.EvaluatePolicyAgainstJSON(ctx, p.As, p.Type, p.Data, payload)
	if err != nil {
		return "", err
	}
	if warn != nil {
		return "with warning: " + warn.Error(), nil
	}
	return "", nil
}
