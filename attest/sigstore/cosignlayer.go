//go:build !js

package sigstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/dsse"
	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify/strictjson"
)

// Media types of the layers of cosign .sig and .att images.
const (
	MediaTypeSimpleSigning = attest.MediaTypeSimpleSigning
	MediaTypeDSSE          = attest.MediaTypeDSSE
)

// CosignLayer is a keyless signature as cosign attaches it to an image
// without a sigstore bundle: one layer of a .sig or .att image and the
// layer's annotations, as package attest finds it.
type CosignLayer = attest.LegacySignature

// VerifyCosignLayer verifies a keyless cosign signature or attestation
// layer offline, with exactly the checks of a keyless bundle: the layer is
// converted to a v0.1 bundle whose log entry carries the Rekor bundle's
// signed entry timestamp, and verified against p, which must name an
// identity and an issuer. The Fulcio chain must be valid at the log's
// integrated time. The Rekor entry must also be for this very payload: its
// body's hash (hashedrekord data, intoto or dsse payload) must equal the
// sha256 of the signed payload.
//
// For a DSSE layer, the signature covers the envelope's PAE; the verified
// statement is in Result.Payload and its subjects are left to the caller,
// who knows which image the layer is attached to.
func VerifyCosignLayer(ctx context.Context, l CosignLayer, p Policy) (*Result, error) {
	res := &Result{}
	if !p.keyless() {
		return res, res.fail(CheckPolicy, ErrPolicy, errors.New("a keyless cosign layer is verified against a certificate identity, not a key"))
	}
	if l.Certificate == "" || l.Bundle == "" {
		return res, res.fail(CheckBundle, ErrMalformed, errors.New("a keyless cosign layer needs its certificate and Rekor bundle annotations"))
	}
	if err := parseChain(l.Chain); err != nil {
		return res, res.fail(CheckBundle, ErrMalformed, err)
	}
	lim := p.limits()
	if len(l.Bundle) > int(lim.AttestationDocument) {
		return res, res.fail(CheckBundle, ErrMalformed, limits.Exceeded(limits.AttestationDocument, lim.AttestationDocument, "Rekor bundle"))
	}
	var rb RekorBundle
	if err := strictjson.Unmarshal([]byte(l.Bundle), &rb, lim.JSONDepth); err != nil {
		return res, res.fail(CheckBundle, ErrMalformed, fmt.Errorf("dev.sigstore.cosign/bundle: %w", err))
	}

	var (
		bundleJSON []byte
		signed     []byte // what the Rekor entry's hash covers
		err        error
	)
	switch l.MediaType {
	case MediaTypeSimpleSigning:
		sum := sha256.Sum256(l.Data)
		signed = l.Data
		bundleJSON, err = FromCosign(&CosignSignature{Base64Signature: l.Signature, Cert: l.Certificate, RekorBundle: &rb}, sum[:])
	case MediaTypeDSSE:
		signed, bundleJSON, err = dsseBundle(l.Data, l.Certificate, &rb, lim)
	default:
		err = fmt.Errorf("layer media type %q is neither simple signing nor DSSE", l.MediaType)
	}
	if err != nil {
		return res, res.fail(CheckBundle, ErrMalformed, err)
	}
	if l.MediaType == MediaTypeDSSE {
		res, err = verifyBundle(ctx, bundleJSON, Artifact{}, p, true)
	} else {
		res, err = verifyBundle(ctx, bundleJSON, Artifact{Reader: bytes.NewReader(l.Data)}, p, false)
	}
	if err != nil {
		return res, err
	}
	if err := res.rekorBodyCovers(&rb, signed); err != nil {
		return res, err
	}
	return res, nil
}

// BundleFromCosignLayer converts a keyless cosign DSSE attestation layer
// (its envelope, certificate and Rekor bundle annotations) into the v0.1
// sigstore bundle that VerifyCosignLayer checks.
func BundleFromCosignLayer(l CosignLayer) ([]byte, error) {
	if l.MediaType != MediaTypeDSSE {
		return nil, fmt.Errorf("layer media type %q: only DSSE layers convert", l.MediaType)
	}
	lim := limits.Default()
	var rb RekorBundle
	if err := strictjson.Unmarshal([]byte(l.Bundle), &rb, lim.JSONDepth); err != nil {
		return nil, fmt.Errorf("dev.sigstore.cosign/bundle: %w", err)
	}
	_, b, err := dsseBundle(l.Data, l.Certificate, &rb, lim)
	return b, err
}

// dsseBundle converts a cosign DSSE layer into a bundle. It returns the
// envelope's payload, which the Rekor entry's payload hash must cover.
func dsseBundle(data []byte, cert string, rb *RekorBundle, lim limits.Limits) ([]byte, []byte, error) {
	env, err := dsse.Parse(data, lim)
	if err != nil {
		return nil, nil, fmt.Errorf("DSSE envelope: %w", err)
	}
	if len(env.Signatures) != 1 {
		return nil, nil, fmt.Errorf("DSSE envelope: a keyless attestation has one signature, this one has %d", len(env.Signatures))
	}
	payload, err := dsse.DecodeBase64(env.Payload)
	if err != nil {
		return nil, nil, fmt.Errorf("DSSE payload: %w", err)
	}
	sig, err := dsse.DecodeBase64(env.Signatures[0].Sig)
	if err != nil || len(sig) == 0 {
		return nil, nil, errors.New("DSSE envelope: the signature is not base64")
	}
	b, err := legacyBundle(&protobundle.Bundle{Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
		Payload: payload, PayloadType: env.PayloadType,
		Signatures: []*protodsse.Signature{{Sig: sig, Keyid: env.Signatures[0].KeyID}},
	}}}, cert, rb)
	return payload, b, err
}

// parseChain requires the chain annotation, when present, to be PEM
// certificates and nothing else.
func parseChain(chain string) error {
	rest := []byte(chain)
	for len(bytes.TrimSpace(rest)) > 0 {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil || block.Type != "CERTIFICATE" {
			return errors.New("certificate chain: not a sequence of PEM certificates")
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return fmt.Errorf("certificate chain: %w", err)
		}
	}
	return nil
}

// rekorHash is a hash as Rekor entry bodies write it.
type rekorHash struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"value"`
}

// rekorBody holds the fields of the Rekor entry kinds cosign uploads that
// say what was signed: hashedrekord's data hash, intoto's payload hash
// (v0.0.1 and v0.0.2) and dsse's payload hash.
type rekorBody struct {
	Kind string `json:"kind"`
	Spec struct {
		Data *struct {
			Hash *rekorHash `json:"hash"`
		} `json:"data"`
		Content *struct {
			PayloadHash *rekorHash `json:"payloadHash"`
		} `json:"content"`
		PayloadHash *rekorHash `json:"payloadHash"`
	} `json:"spec"`
}

// rekorBodyCovers requires the Rekor entry to be for the signed bytes.
// sigstore-go compares the entry's signature and certificate with the
// bundle's, but not what the entry says was signed.
func (res *Result) rekorBodyCovers(rb *RekorBundle, signed []byte) error {
	fail := func(err error) error {
		return res.fail(CheckTransparencyLog, ErrVerify, err)
	}
	raw, err := base64.StdEncoding.DecodeString(rb.Payload.Body)
	if err != nil {
		return fail(errors.New("the Rekor entry body is not base64"))
	}
	var body rekorBody
	if err := strictjson.Unmarshal(raw, &body, limits.Default().JSONDepth); err != nil {
		return fail(fmt.Errorf("the Rekor entry body: %w", err))
	}
	var h *rekorHash
	switch {
	case body.Kind == "hashedrekord" && body.Spec.Data != nil:
		h = body.Spec.Data.Hash
	case body.Kind == "intoto" && body.Spec.Content != nil:
		h = body.Spec.Content.PayloadHash
	case body.Kind == "dsse":
		h = body.Spec.PayloadHash
	}
	if h == nil {
		return fail(fmt.Errorf("the Rekor entry of kind %q names no hash of the signed payload", body.Kind))
	}
	sum := sha256.Sum256(signed)
	want := hex.EncodeToString(sum[:])
	if h.Algorithm != "sha256" || h.Value != want {
		return fail(fmt.Errorf("the Rekor entry is for %s:%s, the signed payload is sha256:%s", h.Algorithm, h.Value, want))
	}
	res.pass(CheckTransparencyLog, "the Rekor "+body.Kind+" entry is for sha256:"+want)
	return nil
}
