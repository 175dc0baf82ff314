package verify

import (
	// Register the hash functions that go-digest looks up.
	_ "crypto/sha256"
	_ "crypto/sha512"
	"fmt"
	"hash"
	"path"

	"github.com/opencontainers/go-digest"
)

// digestError is a digest string that failed validation.
type digestError struct {
	code Code
	msg  string
}

func (e *digestError) Error() string { return e.msg }

// parseDigest validates s with an anchored grammar and per-algorithm length
// and charset. It returns CodeInvalidDigest for malformed values and
// CodeUnsupportedAlgorithm for well-formed ones that cannot be computed.
func parseDigest(s string) (digest.Digest, *digestError) {
	d := digest.Digest(s)
	err := d.Validate()
	switch {
	case err == nil:
	case err == digest.ErrDigestUnsupported && wellFormed(s):
		return "", &digestError{CodeUnsupportedAlgorithm, fmt.Sprintf("digest algorithm of %q is not supported", s)}
	default:
		return "", &digestError{CodeInvalidDigest, fmt.Sprintf("invalid digest %q: %v", s, err)}
	}
	if alg := d.Algorithm(); alg != digest.SHA256 && alg != digest.SHA512 {
		return "", &digestError{CodeUnsupportedAlgorithm, fmt.Sprintf("digest algorithm %q is not supported", alg)}
	}
	return d, nil
}

// wellFormed applies the image-spec digest grammar:
// algorithm ":" encoded, algorithm = component (separator component)*,
// component = [a-z0-9]+, separator = [+._-], encoded = [a-zA-Z0-9=_-]+.
func wellFormed(s string) bool {
	alg, enc, ok := cut(s, ':')
	if !ok || alg == "" || enc == "" {
		return false
	}
	prevSep := true
	for i := 0; i < len(alg); i++ {
		c := alg[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			prevSep = false
		case c == '+' || c == '.' || c == '_' || c == '-':
			if prevSep {
				return false
			}
			prevSep = true
		default:
			return false
		}
	}
	if prevSep {
		return false
	}
	for i := 0; i < len(enc); i++ {
		c := enc[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '=' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func cut(s string, sep byte) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// blobPath is the layout path of a validated digest.
func blobPath(d digest.Digest) string {
	return path.Join("blobs", string(d.Algorithm()), d.Encoded())
}

// newHash returns a hash for a validated digest's algorithm.
func newHash(alg digest.Algorithm) hash.Hash {
	return alg.Hash()
}

// chainIDs computes ChainID(L0) = DiffID(L0) and
// ChainID(L0|...|Ln) = Digest(ChainID(L0|...|Ln-1) + " " + DiffID(Ln)).
func chainIDs(diffIDs []string) []string {
	out := make([]string, 0, len(diffIDs))
	for i, d := range diffIDs {
		if i == 0 {
			out = append(out, d)
			continue
		}
		prev := out[i-1]
		alg := digest.SHA256
		if pd, err := parseDigest(prev); err == nil {
			alg = pd.Algorithm()
		}
		out = append(out, alg.FromString(prev+" "+d).String())
	}
	return out
}
