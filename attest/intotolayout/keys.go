//go:build !js

package intotolayout

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/in-toto/in-toto-golang/in_toto"
	"github.com/secure-systems-lab/go-securesystemslib/cjson"
	"github.com/secure-systems-lab/go-securesystemslib/signerverifier"

	"github.com/imgproof/imgproof/attest/keys"
	"github.com/imgproof/imgproof/internal/limits"
)

// ownerKey is a layout key with every key ID in-toto implementations give it.
type ownerKey struct {
	key in_toto.Key
	ids []string
}

// loadOwnerKey reads a PEM public key (PKIX, PKCS#1 or a certificate's key)
// or a securesystemslib JSON public key, as in-toto-keygen writes Ed25519
// and ECDSA keys. Private keys are refused.
func loadOwnerKey(data []byte, name string, lim limits.Limits) (ownerKey, error) {
	var s *keys.SSLib
	if keys.IsSSLibJSON(data) {
		var err error
		if s, _, err = keys.ParseSSLibLimited(data, name, lim); err != nil {
			return ownerKey{}, err
		}
	} else {
		ks, err := keys.ParsePEMLimited(data, name, lim)
		if err != nil {
			return ownerKey{}, err
		}
		if len(ks) != 1 {
			return ownerKey{}, fmt.Errorf("%s: holds %d keys; give one key per file", name, len(ks))
		}
		if s, err = keys.SSLibOf(ks[0]); err != nil {
			return ownerKey{}, err
		}
	}
	if s.KeyType == "rsa" && s.Scheme != "rsassa-pss-sha256" {
		return ownerKey{}, fmt.Errorf("%s: in-toto verifies RSA only under rsassa-pss-sha256, not %q", name, s.Scheme)
	}
	k := in_toto.Key{KeyType: s.KeyType, Scheme: s.Scheme, KeyIDHashAlgorithms: s.KeyIDHashAlgorithms}
	k.KeyVal.Public = s.KeyVal.Public
	if strings.HasPrefix(k.KeyType, "ecdsa-") {
		// Older securesystemslib wrote the scheme as the keytype; the key
		// ID keeps the file's keytype, the verifier wants the family.
		k.KeyType = "ecdsa"
	}
	ids := s.KeyIDs()
	k.KeyID = ids[0]
	return ownerKey{key: k, ids: ids}, nil
}

// keysBySignature names each owner key by the one of its key IDs that a
// signature of the layout uses, so that layouts signed by any in-toto
// implementation find their signature; a key that signed nothing keeps its
// first ID and fails signature verification. One key given twice counts
// once.
func keysBySignature(owners []ownerKey, sigs []in_toto.Signature) map[string]in_toto.Key {
	used := map[string]bool{}
	for _, s := range sigs {
		used[s.KeyID] = true
	}
	out := map[string]in_toto.Key{}
	for _, o := range owners {
		k := o.key
		for _, id := range o.ids {
			if used[id] {
				k.KeyID = id
				break
			}
		}
		out[k.KeyID] = k
	}
	return out
}

// verifyLayoutSignatures requires a valid signature of every owner key. A
// DSSE envelope is verified by in-toto-golang over its payload bytes. A
// classic signed layout is verified over the canonical JSON of its "signed"
// object as the file holds it, as the Python reference implementation signs
// it: in-toto-golang re-encodes the object from its own types instead, which
// drops members such as the empty "private" of RSA keys that in-toto 1.x
// embeds, so its digest of a genuine layout can differ from the signed one.
// data is the file at path as strictFile read it, within its limit.
func verifyLayoutSignatures(path string, data []byte, env in_toto.Metadata, owners map[string]in_toto.Key) error {
	if _, ok := env.(*in_toto.Envelope); ok {
		return in_toto.VerifyLayoutSignatures(env, owners)
	}
	var doc struct {
		Signed json.RawMessage `json:"signed"`
	}
	if err := json.Unmarshal(data, &doc); err != nil || len(doc.Signed) == 0 {
		return fmt.Errorf("%s: no signed object: %v", path, err)
	}
	payload, err := cjson.EncodeCanonical(doc.Signed)
	if err != nil {
		return fmt.Errorf("%s: canonical JSON of the signed object: %w", path, err)
	}
	for _, k := range owners {
		sig, err := env.GetSignatureForKeyID(k.KeyID)
		if err != nil {
			return err
		}
		raw, err := hex.DecodeString(sig.Sig)
		if err != nil {
			return fmt.Errorf("signature of key %s: %w", k.KeyID, err)
		}
		v, err := signatureVerifier(k)
		if err != nil {
			return err
		}
		if err := v.Verify(context.Background(), payload, raw); err != nil {
			return fmt.Errorf("signature of key %s: %w", k.KeyID, err)
		}
	}
	return nil
}

// signatureVerifier is go-securesystemslib's verifier for an owner key.
func signatureVerifier(k in_toto.Key) (interface {
	Verify(ctx context.Context, data, sig []byte) error
}, error) {
	s := &signerverifier.SSLibKey{KeyType: k.KeyType, Scheme: k.Scheme, KeyID: k.KeyID,
		KeyIDHashAlgorithms: k.KeyIDHashAlgorithms, KeyVal: signerverifier.KeyVal{Public: k.KeyVal.Public}}
	switch k.KeyType {
	case "rsa":
		return signerverifier.NewRSAPSSSignerVerifierFromSSLibKey(s)
	case "ed25519":
		return signerverifier.NewED25519SignerVerifierFromSSLibKey(s)
	case "ecdsa":
		return signerverifier.NewECDSASignerVerifierFromSSLibKey(s)
	}
	return nil, fmt.Errorf("key %s: unsupported keytype %q", k.KeyID, k.KeyType)
}
