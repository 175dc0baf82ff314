//go:build !js

package sigstore

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/imgproof/imgproof/attest/dsse"
	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify/strictjson"
)

// CosignSignature is cosign's older signature material: what `cosign
// sign-blob --bundle` writes without --new-bundle-format, and what the
// annotations of a cosign .sig image layer carry.
type CosignSignature struct {
	// Base64Signature is the signature, base64 encoded.
	Base64Signature string `json:"base64Signature"`
	// Cert is the signing certificate: base64 of its PEM (as in a bundle
	// file) or the PEM itself (as in a .sig annotation). Empty for keys.
	Cert string `json:"cert,omitempty"`
	// RekorBundle is the transparency log's promise of inclusion, if any.
	RekorBundle *RekorBundle `json:"rekorBundle,omitempty"`
}

// RekorBundle is cosign's record of a Rekor v1 entry: the signed entry
// timestamp over the entry's body, time, index and log ID.
type RekorBundle struct {
	SignedEntryTimestamp string       `json:"SignedEntryTimestamp"`
	Payload              RekorPayload `json:"Payload"`
}

// RekorPayload is the signed part of a RekorBundle.
type RekorPayload struct {
	Body           string `json:"body"`
	IntegratedTime int64  `json:"integratedTime"`
	LogIndex       int64  `json:"logIndex"`
	LogID          string `json:"logID"`
}

// IsCosignSignature reports whether data looks like cosign's older bundle
// file (an object with a base64Signature member) rather than a sigstore
// bundle.
func IsCosignSignature(data []byte) bool {
	var probe map[string]json.RawMessage
	if json.Unmarshal(data, &probe) != nil {
		return false
	}
	_, sig := probe["base64Signature"]
	_, mt := probe["mediaType"]
	return sig && !mt
}

// ParseCosignSignature decodes cosign's older bundle file under the strict
// JSON profile.
func ParseCosignSignature(data []byte) (*CosignSignature, error) {
	lim := limits.Default()
	if int64(len(data)) > lim.AttestationDocument {
		return nil, limits.Exceeded(limits.AttestationDocument, lim.AttestationDocument, "cosign bundle")
	}
	var s CosignSignature
	if err := strictjson.Unmarshal(data, &s, lim.JSONDepth); err != nil {
		return nil, err
	}
	return &s, nil
}

// FromCosign converts cosign's older signature material over a message
// with the given sha256 digest into a sigstore bundle, so it is verified by
// the same code as any bundle: v0.1 when a Rekor entry is present (its
// signed entry timestamp is the inclusion promise), v0.3 otherwise. Nothing
// is trusted by the conversion; a field that does not fit fails Verify.
func FromCosign(s *CosignSignature, messageSHA256 []byte) ([]byte, error) {
	sig, err := dsse.DecodeBase64(s.Base64Signature)
	if err != nil || len(sig) == 0 {
		return nil, fmt.Errorf("base64Signature: not a base64 signature")
	}
	if len(messageSHA256) != 32 {
		return nil, errors.New("message digest must be 32 bytes of sha256")
	}
	return legacyBundle(&protobundle.Bundle{
		Content: &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: messageSHA256},
			Signature:     sig,
		}},
	}, s.Cert, s.RekorBundle)
}

// legacyBundle completes b, whose content is set, with the certificate
// and the Rekor entry of cosign's older material.
func legacyBundle(b *protobundle.Bundle, cert string, rb *RekorBundle) ([]byte, error) {
	b.VerificationMaterial = &protobundle.VerificationMaterial{}
	var certDER []byte
	if cert != "" {
		var err error
		if certDER, err = certificateDER(cert); err != nil {
			return nil, err
		}
	}
	if rb != nil {
		b.MediaType = "application/vnd.dev.sigstore.bundle+json;version=0.1"
		entry, err := rekorEntry(rb)
		if err != nil {
			return nil, err
		}
		b.VerificationMaterial.TlogEntries = []*protorekor.TransparencyLogEntry{entry}
		if certDER != nil {
			b.VerificationMaterial.Content = &protobundle.VerificationMaterial_X509CertificateChain{
				X509CertificateChain: &protocommon.X509CertificateChain{Certificates: []*protocommon.X509Certificate{{RawBytes: certDER}}}}
		}
	} else {
		b.MediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
		if certDER != nil {
			b.VerificationMaterial.Content = &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: certDER}}
		}
	}
	if certDER == nil {
		b.VerificationMaterial.Content = &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: ""}}
	}
	return protojson.Marshal(b)
}

// certificateDER accepts a PEM certificate or base64 of one.
func certificateDER(c string) ([]byte, error) {
	data := []byte(c)
	if dec, err := base64.StdEncoding.DecodeString(c); err == nil {
		data = dec
	}
	block, rest := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("cert: not a PEM certificate")
	}
	if next, _ := pem.Decode(rest); next != nil {
		return nil, errors.New("cert: more than one certificate; give the leaf only")
	}
	return block.Bytes, nil
}

// rekorEntry turns a RekorBundle into a log entry with an inclusion
// promise. The kind and version come from the body itself.
func rekorEntry(rb *RekorBundle) (*protorekor.TransparencyLogEntry, error) {
	set, err := base64.StdEncoding.DecodeString(rb.SignedEntryTimestamp)
	if err != nil || len(set) == 0 {
		return nil, errors.New("rekorBundle: SignedEntryTimestamp is not base64")
	}
	body, err := base64.StdEncoding.DecodeString(rb.Payload.Body)
	if err != nil || len(body) == 0 {
		return nil, errors.New("rekorBundle: body is not base64")
	}
	logID, err := hex.DecodeString(rb.Payload.LogID)
	if err != nil || len(logID) != 32 {
		return nil, errors.New("rekorBundle: logID is not 32 bytes of hex")
	}
	var kind struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := json.Unmarshal(body, &kind); err != nil || kind.Kind == "" || kind.APIVersion == "" {
		return nil, errors.New("rekorBundle: body names no kind and apiVersion")
	}
	return &protorekor.TransparencyLogEntry{
		LogIndex:          rb.Payload.LogIndex,
		LogId:             &protocommon.LogId{KeyId: logID},
		KindVersion:       &protorekor.KindVersion{Kind: kind.Kind, Version: kind.APIVersion},
		IntegratedTime:    rb.Payload.IntegratedTime,
		InclusionPromise:  &protorekor.InclusionPromise{SignedEntryTimestamp: set},
		CanonicalizedBody: body,
	}, nil
}
