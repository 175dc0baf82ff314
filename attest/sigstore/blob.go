//go:build !js

package sigstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/imgproof/imgproof/attest/dsse"
	"github.com/imgproof/imgproof/attest/keys"
	"github.com/imgproof/imgproof/internal/limits"
)

// VerifySignature checks a detached signature over an artifact stream with
// a PEM public key, as `cosign verify-blob --key` does for a signature
// made by `cosign sign-blob`. sig is the raw signature or its base64 text.
// No transparency log is involved: the key is the only trust anchor, and
// the result says so. lim bounds the signature (SignatureFile) and the key.
func VerifySignature(ctx context.Context, sig []byte, artifact io.Reader, keyPEM []byte, lim limits.Limits) (*Result, error) {
	res := &Result{}
	if err := ctx.Err(); err != nil {
		return res, res.fail(CheckPolicy, ErrPolicy, err)
	}
	key, err := oneKey(keyPEM, lim)
	if err != nil {
		return res, res.fail(CheckPolicy, ErrPolicy, err)
	}
	if int64(len(sig)) > lim.SignatureFile {
		return res, res.fail(CheckSignature, ErrMalformed, limits.Exceeded(limits.SignatureFile, lim.SignatureFile, "signature"))
	}
	// Base64 text may end with a newline; a raw signature is used as it
	// is, since its bytes may be whitespace too.
	raw := sig
	if dec, err := dsse.DecodeBase64(string(bytes.TrimSpace(sig))); err == nil {
		raw = dec
	}
	if len(raw) == 0 {
		return res, res.fail(CheckSignature, ErrMalformed, errors.New("signature is empty"))
	}
	v, err := signature.LoadDefaultVerifier(key.Public)
	if err != nil {
		return res, res.fail(CheckPolicy, ErrPolicy, err)
	}
	d := newDigester(artifact)
	res.skip(CheckTransparencyLog, "detached signature: no log entry; the key is the only trust anchor")
	if err := v.VerifySignature(bytes.NewReader(raw), d.tee); err != nil {
		return res, res.fail(CheckSignature, ErrVerify, err)
	}
	if _, err := io.Copy(io.Discard, d.tee); err != nil {
		return res, res.fail(CheckSignature, ErrVerify, fmt.Errorf("reading artifact: %w", err))
	}
	res.ArtifactDigest = d.digest("sha256")
	res.Signer = key.String()
	res.pass(CheckSignature, "over "+res.ArtifactDigest+" with "+key.Type+" key "+key.ID)
	res.Verified = true
	return res, nil
}

// VerifyEnvelope checks a DSSE envelope (as written by `cosign attest-blob`)
// with a PEM public key, then requires an in-toto statement whose subject
// names the artifact, as `cosign verify-blob-attestation` does.
// predicateType, when not empty, must equal the statement's. lim bounds
// the envelope, its statement and the key.
func VerifyEnvelope(ctx context.Context, envelopeJSON []byte, artifact Artifact, keyPEM []byte, predicateType string, lim limits.Limits) (*Result, error) {
	res := &Result{}
	if err := ctx.Err(); err != nil {
		return res, res.fail(CheckPolicy, ErrPolicy, err)
	}
	key, err := oneKey(keyPEM, lim)
	if err != nil {
		return res, res.fail(CheckPolicy, ErrPolicy, err)
	}
	artifactDigest, err := digestOf(artifact)
	if err != nil {
		return res, res.fail(CheckPolicy, ErrPolicy, err)
	}
	env, err := dsse.Parse(envelopeJSON, lim)
	if err != nil {
		return res, res.fail(CheckBundle, ErrMalformed, err)
	}
	res.PayloadType = env.PayloadType
	res.pass(CheckBundle, "DSSE envelope with "+fmt.Sprint(len(env.Signatures))+" signature(s)")
	res.skip(CheckTransparencyLog, "DSSE envelope: no log entry; the key is the only trust anchor")
	vr, err := dsse.Verify(env, []*keys.Key{key}, 1)
	if err != nil {
		return res, res.fail(CheckSignature, ErrVerify, err)
	}
	res.pass(CheckSignature, "DSSE signature by "+key.Type+" key "+key.ID)
	res.Payload = vr.Payload
	if err := res.statement(predicateType, lim); err != nil {
		return res, err
	}
	if err := res.bindArtifact(res.Statement, artifactDigest); err != nil {
		return res, err
	}
	res.ArtifactDigest = artifactDigest
	res.Signer = key.String()
	res.Verified = true
	return res, nil
}

// oneKey parses exactly one public key.
func oneKey(pemBytes []byte, lim limits.Limits) (*keys.Key, error) {
	ks, err := keys.ParsePEMLimited(pemBytes, "key", lim)
	if err != nil {
		return nil, err
	}
	if len(ks) != 1 {
		return nil, fmt.Errorf("key file holds %d keys, want 1", len(ks))
	}
	return ks[0], nil
}

// digestOf returns the sha256 digest of an artifact, reading it if needed.
func digestOf(a Artifact) (string, error) {
	switch {
	case a.Reader != nil && a.Digest != "":
		return "", errors.New("give the artifact as bytes or as a digest, not both")
	case a.Reader != nil:
		d := newDigester(a.Reader)
		if _, err := io.Copy(io.Discard, d.tee); err != nil {
			return "", fmt.Errorf("reading artifact: %w", err)
		}
		return d.digest("sha256"), nil
	case a.Digest != "":
		if _, err := parseDigest(a.Digest); err != nil {
			return "", err
		}
		return a.Digest, nil
	}
	return "", errors.New("no artifact given")
}
