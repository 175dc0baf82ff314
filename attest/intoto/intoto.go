// Package intoto parses in-toto Statements (v0.1 and v1) and binds their
// subjects to the digests that the verifier recomputed.
//
// Following in-toto attestation docs/validation.md, the payload type must
// be exactly application/vnd.in-toto+json, _type must be exactly one of
// the two Statement versions, and a subject matches a node when one of its
// digests, for an algorithm the verifier computes (sha256, sha512),
// decodes to the same bytes as the node's recomputed digest. Subjects are
// matched purely by digest; names are policy.
package intoto

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify/strictjson"
)

// The accepted identifiers.
const (
	PayloadType  = "application/vnd.in-toto+json"
	StatementV01 = "https://in-toto.io/Statement/v0.1"
	StatementV1  = "https://in-toto.io/Statement/v1"
)

// Errors, matched with errors.Is.
var (
	ErrPayloadType  = errors.New("unsupported payload type")
	ErrStatement    = errors.New("invalid statement")
	ErrNoSubject    = errors.New("statement has no subject")
	ErrSubjectAlgos = errors.New("no subject digest uses a supported algorithm")
)

// Statement is an in-toto Statement, v0.1 or v1.
type Statement struct {
	Type          string          `json:"_type"`
	Subject       []Subject       `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate,omitempty"`
}

// Subject is one artifact the statement is about.
type Subject struct {
	Name   string            `json:"name,omitempty"`
	Digest map[string]string `json:"digest"`
}

// CheckPayloadType returns ErrPayloadType unless t is exactly the in-toto
// payload type (no case folding, no parameters, no whitespace).
func CheckPayloadType(t string) error {
	if t != PayloadType {
		return fmt.Errorf("%w: %q (want %q)", ErrPayloadType, t, PayloadType)
	}
	return nil
}

// Parse decodes a statement from the exact bytes that were verified, under
// the strict JSON profile, and checks its type, predicate type and the
// size of its subject list.
func Parse(payload []byte, lim limits.Limits) (*Statement, error) {
	if int64(len(payload)) > lim.AttestationDocument {
		return nil, limits.Exceeded(limits.AttestationDocument, lim.AttestationDocument, "statement")
	}
	var s Statement
	if err := strictjson.Unmarshal(payload, &s, lim.JSONDepth); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStatement, err)
	}
	if s.Type != StatementV01 && s.Type != StatementV1 {
		return nil, fmt.Errorf("%w: _type %q is not an in-toto Statement v0.1 or v1", ErrStatement, s.Type)
	}
	if s.PredicateType == "" {
		return nil, fmt.Errorf("%w: predicateType is empty", ErrStatement)
	}
	if len(s.Subject) == 0 {
		return nil, ErrNoSubject
	}
	if len(s.Subject) > lim.Subjects {
		return nil, limits.Exceeded(limits.Subjects, int64(lim.Subjects), "statement subject list")
	}
	for i, sub := range s.Subject {
		if len(sub.Digest) == 0 {
			return nil, fmt.Errorf("%w: subject[%d] has no digest", ErrStatement, i)
		}
		if len(sub.Digest) > lim.SubjectDigests {
			return nil, limits.Exceeded(limits.SubjectDigests, int64(lim.SubjectDigests), fmt.Sprintf("subject[%d] digests", i))
		}
	}
	return &s, nil
}

// Node is a recomputed node of the verified graph.
type Node struct {
	Digest digest.Digest
	// Kind is index, manifest or config.
	Kind string
	// Path locates the node in the report.
	Path string
}

// Match is one subject digest that names a node.
type Match struct {
	Subject int
	Node    Node
}

// Bind returns the nodes that the statement's subjects name. It returns
// ErrSubjectAlgos when no subject digest uses a supported algorithm; an
// empty result with a nil error means the digests were comparable but
// named nothing in the graph.
func (s *Statement) Bind(nodes []Node) ([]Match, error) {
	var out []Match
	comparable := false
	for i, sub := range s.Subject {
		for _, alg := range sortedKeys(sub.Digest) {
			val := sub.Digest[alg]
			a := digest.Algorithm(alg)
			if a != digest.SHA256 && a != digest.SHA512 {
				continue
			}
			want, err := hex.DecodeString(val)
			if err != nil || len(want) != a.Size() {
				continue
			}
			comparable = true
			for _, n := range nodes {
				if n.Digest.Algorithm() != a {
					continue
				}
				if got, err := hex.DecodeString(n.Digest.Encoded()); err == nil && string(got) == string(want) {
					out = append(out, Match{Subject: i, Node: n})
				}
			}
		}
	}
	if !comparable {
		return nil, ErrSubjectAlgos
	}
	return out, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Names returns "alg:hex" for every subject digest, sorted per subject, for
// messages.
func (s *Statement) Names() string {
	var parts []string
	for _, sub := range s.Subject {
		for _, alg := range sortedKeys(sub.Digest) {
			parts = append(parts, alg+":"+sub.Digest[alg])
		}
	}
	if len(parts) > 4 {
		parts = append(parts[:4], fmt.Sprintf("... (%d more)", len(parts)-4))
	}
	return strings.Join(parts, ", ")
}
