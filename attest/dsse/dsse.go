// Package dsse verifies Dead Simple Signing Envelopes
// (https://github.com/secure-systems-lab/dsse, protocol.md).
//
// Signatures are checked over PAE(payloadType, payload), where payload is
// the base64-decoded body. The envelope is decoded once under the strict
// JSON profile, and Verify returns exactly the bytes it verified: callers
// parse those and never the envelope again. A threshold counts distinct
// trusted keys, so one key that signs twice counts once.
package dsse

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/imgproof/imgproof/attest/keys"
	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify/strictjson"
)

// PAE is the DSSE pre-authentication encoding:
// "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, where LEN is the
// length in bytes as ASCII decimal without leading zeros.
func PAE(payloadType string, payload []byte) []byte {
	b := make([]byte, 0, len("DSSEv1  ")+2*20+2+len(payloadType)+len(payload))
	b = append(b, "DSSEv1 "...)
	b = strconv.AppendInt(b, int64(len(payloadType)), 10)
	b = append(b, ' ')
	b = append(b, payloadType...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(len(payload)), 10)
	b = append(b, ' ')
	return append(b, payload...)
}

// Envelope is a DSSE envelope as found on the wire.
type Envelope struct {
	PayloadType string      `json:"payloadType"`
	Payload     string      `json:"payload"`
	Signatures  []Signature `json:"signatures"`
}

// Signature is one envelope signature. KeyID is a hint only.
type Signature struct {
	KeyID string `json:"keyid,omitempty"`
	Sig   string `json:"sig"`
}

// Sentinel errors; errors.Is matches the typed errors below.
var (
	ErrMalformed    = errors.New("malformed envelope")
	ErrNoSignature  = errors.New("no valid signature by a trusted key")
	ErrThreshold    = errors.New("signature threshold not met")
	ErrTooManySigns = errors.New("too many signatures")
)

// Parse decodes an envelope under the strict JSON profile and checks its
// shape: a payload type, a payload that is valid base64, and at least one
// and at most lim.Signatures signatures.
func Parse(data []byte, lim limits.Limits) (*Envelope, error) {
	if int64(len(data)) > lim.AttestationDocument {
		return nil, limits.Exceeded(limits.AttestationDocument, lim.AttestationDocument, "DSSE envelope")
	}
	var e Envelope
	if err := strictjson.Unmarshal(data, &e, lim.JSONDepth); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if e.PayloadType == "" {
		return nil, fmt.Errorf("%w: payloadType is empty", ErrMalformed)
	}
	if _, err := DecodeBase64(e.Payload); err != nil {
		return nil, fmt.Errorf("%w: payload: %w", ErrMalformed, err)
	}
	if len(e.Signatures) == 0 {
		return nil, fmt.Errorf("%w: no signatures", ErrMalformed)
	}
	if len(e.Signatures) > lim.Signatures {
		return nil, fmt.Errorf("%w: %w", ErrTooManySigns, limits.Exceeded(limits.Signatures, int64(lim.Signatures), "DSSE envelope"))
	}
	return &e, nil
}

// DecodeBase64 accepts the standard and the URL-safe alphabets, padded or
// not, and nothing else (no whitespace, no mixed alphabets).
func DecodeBase64(s string) ([]byte, error) {
	std := !strings.ContainsAny(s, "-_")
	url := !strings.ContainsAny(s, "+/")
	if !std && !url {
		return nil, errors.New("base64 mixes the standard and URL-safe alphabets")
	}
	enc := base64.StdEncoding
	if !std {
		enc = base64.URLEncoding
	}
	if !strings.HasSuffix(s, "=") && len(s)%4 != 0 {
		enc = enc.WithPadding(base64.NoPadding)
	}
	b, err := enc.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("invalid base64: %w", err)
	}
	return b, nil
}

// Result is a verified envelope.
type Result struct {
	PayloadType string
	// Payload is the exact byte string the signatures cover.
	Payload []byte
	// Signers are the distinct trusted keys whose signatures verified.
	Signers []*keys.Key
	// Rejected counts signatures that verified under no trusted key.
	Rejected int
}

// Verify checks e against trusted keys and requires at least threshold
// distinct keys (threshold < 1 is an error: it would disable the check).
// On success Result.Payload holds the verified bytes. On failure the
// returned Result still says which keys verified, for the report.
func Verify(e *Envelope, trusted []*keys.Key, threshold int) (*Result, error) {
	if threshold < 1 {
		return nil, fmt.Errorf("threshold %d: must be at least 1", threshold)
	}
	payload, err := DecodeBase64(e.Payload)
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %w", ErrMalformed, err)
	}
	msg := PAE(e.PayloadType, payload)
	res := &Result{PayloadType: e.PayloadType}
	seen := map[string]bool{}
	for _, s := range e.Signatures {
		sig, err := DecodeBase64(s.Sig)
		if err != nil || len(sig) == 0 {
			res.Rejected++
			continue
		}
		matched := false
		for _, k := range trusted {
			if k.Verify(msg, sig) == nil {
				matched = true
				if !seen[k.ID] {
					seen[k.ID] = true
					res.Signers = append(res.Signers, k)
				}
			}
		}
		if !matched {
			res.Rejected++
		}
	}
	if len(res.Signers) == 0 {
		return res, ErrNoSignature
	}
	if len(res.Signers) < threshold {
		return res, fmt.Errorf("%w: %d of %d distinct trusted keys", ErrThreshold, len(res.Signers), threshold)
	}
	res.Payload = payload
	return res, nil
}
