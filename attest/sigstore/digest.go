//go:build !js

package sigstore

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/bundle"
)

// digester hashes an artifact with every algorithm a bundle may name while
// sigstore-go reads it.
type digester struct {
	tee io.Reader
	h   map[string]hash.Hash
}

func newDigester(r io.Reader) *digester {
	d := &digester{h: map[string]hash.Hash{"sha256": sha256.New(), "sha384": sha512.New384(), "sha512": sha512.New()}}
	d.tee = io.TeeReader(r, io.MultiWriter(d.h["sha256"], d.h["sha384"], d.h["sha512"]))
	return d
}

func (d *digester) digest(alg string) string {
	return alg + ":" + hex.EncodeToString(d.h[alg].Sum(nil))
}

// bundleDigestAlgorithms maps the protobuf HashAlgorithm names to digest
// algorithm names.
var bundleDigestAlgorithms = map[string]string{"SHA2_256": "sha256", "SHA2_384": "sha384", "SHA2_512": "sha512"}

// messageDigest checks that a message signature's messageDigest, an
// unsigned hint in the bundle, equals the artifact's digest: a bundle that
// disagrees with itself is rejected rather than half-trusted.
func (res *Result) messageDigest(b *bundle.Bundle, d *digester, given string) error {
	sc, err := b.SignatureContent()
	if err != nil {
		return res.fail(CheckSignature, ErrMalformed, err)
	}
	ms := sc.MessageSignatureContent()
	if ms == nil {
		return nil
	}
	if len(ms.Digest()) == 0 {
		return res.fail(CheckSignature, ErrMalformed, errors.New("message signature has no message digest"))
	}
	alg, ok := bundleDigestAlgorithms[ms.DigestAlgorithm()]
	if !ok {
		return res.fail(CheckSignature, ErrMalformed, fmt.Errorf("message digest algorithm %q is not supported", ms.DigestAlgorithm()))
	}
	claimed := alg + ":" + hex.EncodeToString(ms.Digest())
	var actual string
	switch {
	case d != nil:
		actual = d.digest(alg)
	case strings.HasPrefix(given, alg+":"):
		actual = given
	default:
		return res.fail(CheckSignature, ErrVerify, fmt.Errorf("bundle's message digest is %s; the artifact digest %s uses another algorithm", claimed, given))
	}
	if !bytes.Equal([]byte(claimed), []byte(actual)) {
		return res.fail(CheckSignature, ErrVerify, fmt.Errorf("bundle's message digest %s does not match the artifact's %s", claimed, actual))
	}
	return nil
}
